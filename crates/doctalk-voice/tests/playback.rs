//! Playback and capture through a real audio server. This machine has no sound card, so each test
//! starts a private PulseAudio daemon with a null sink, which consumes audio in real time as a card
//! does, and whose monitor is the default source: the "microphone" hears what is played. cpal
//! reaches both as the default ALSA devices through ALSA's pulse plugin, the same path as on a
//! desktop running PulseAudio or PipeWire. (Its own binary: `PULSE_SERVER` is process-wide, so the
//! tests take turns.)

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use doctalk_voice::text::Lang;
use doctalk_voice::vad::VadConfig;
use doctalk_voice::{read_wav, transcribe_audio, EspeakSpeaker, Microphone, Player, Speaker};

/// A PulseAudio daemon of this test's own; killed on drop. Holds the turn.
struct Pulse {
    child: Child,
    _dir: tempfile::TempDir,
    _turn: MutexGuard<'static, ()>,
}

impl Drop for Pulse {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_pulse() -> Pulse {
    static TURN: Mutex<()> = Mutex::new(());
    let turn = TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("native");
    let config = dir.path().join("default.pa");
    std::fs::write(
        &config,
        format!(
            "load-module module-null-sink sink_name=doctalk_test\n\
             set-default-sink doctalk_test\n\
             set-default-source doctalk_test.monitor\n\
             load-module module-native-protocol-unix socket={} auth-anonymous=1\n",
            socket.display()
        ),
    )
    .unwrap();
    let child = Command::new("pulseaudio")
        .args(["-n", "-F"])
        .arg(&config)
        .args([
            "--daemonize=no",
            "--exit-idle-time=-1",
            "--use-pid-file=no",
            "--log-target=stderr",
        ])
        .env("HOME", dir.path())
        .env("XDG_RUNTIME_DIR", dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("pulseaudio (apt-get install pulseaudio libasound2-plugins; scripts/setup.sh does)");
    wait_for(
        Duration::from_secs(10),
        || socket.exists(),
        "the PulseAudio socket",
    );
    std::env::set_var("PULSE_SERVER", format!("unix:{}", socket.display()));
    Pulse {
        child,
        _dir: dir,
        _turn: turn,
    }
}

fn wait_for(limit: Duration, mut ready: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + limit;
    while !ready() {
        assert!(Instant::now() < deadline, "{what} did not come within {limit:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn speech(text: &str) -> doctalk_voice::Audio {
    EspeakSpeaker::default().synthesize(text, Lang::En).unwrap()
}

#[test]
fn speech_plays_and_a_stop_silences_it_at_once_then_the_next_answer_plays() {
    assert!(
        Path::new("/usr/share/alsa").exists(),
        "ALSA configuration missing"
    );
    let _pulse = start_pulse();
    let player = Player::open().unwrap_or_else(|e| panic!("the audio server's default device: {e}"));
    let answer = speech(
        "The VPN session lasts at most twelve hours and is disconnected after thirty minutes without traffic.",
    );
    assert!(answer.duration_s() > 4.0);
    player.enqueue(&answer);
    wait_for(
        Duration::from_secs(5),
        || player.first_sample_at().is_some(),
        "the first sample",
    );
    wait_for(
        Duration::from_secs(5),
        || player.played_s() > 0.5,
        "half a second of speech",
    );
    // Paced like a sound card: most of the answer is still queued, not swallowed at once.
    assert!(player.queued_s() > 2.0, "queued {} s", player.queued_s());

    // Barge-in: the user speaks. The device gets silence from its next period on.
    player.stop();
    wait_for(
        Duration::from_secs(2),
        || player.silenced_at().is_some(),
        "silence after stop",
    );
    let spoken = player.played_s();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(player.played_s(), spoken, "speech went on after the stop");
    assert_eq!(player.queued_s(), 0.0, "the rest of the answer was dropped");
    assert!(spoken < answer.duration_s());

    // The next answer plays on the same device.
    player.resume();
    player.enqueue(&speech("Next answer."));
    wait_for(
        Duration::from_secs(5),
        || player.played_s() > spoken + 0.2,
        "the next answer",
    );
    player.wait();
    assert_eq!(player.queued_s(), 0.0);
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The desktop app's microphone button: a question is heard from the default input device, cut by
/// the voice-activity detector, and Whisper writes it down; pressed again, it ends at once.
#[test]
fn the_microphone_hears_a_spoken_question_and_stops_when_told() {
    let _pulse = start_pulse();
    let models = std::env::var_os("DOCTALK_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".models"));
    let whisper = doctalk_speech::whisper::load_whisper(
        &models.join("whisper-base"),
        doctalk_models::DeviceChoice::Cpu,
    )
    .expect("whisper-base (run scripts/setup.sh)");
    let question = read_wav(&repo().join("tests/fixtures/audio/en_goforward_16k.wav")).unwrap();
    let microphone = Microphone::open().unwrap_or_else(|e| panic!("the audio server's default source: {e}"));
    let player = Player::open().unwrap();

    // Someone asks a question (played into the sink the microphone listens to).
    let never = AtomicBool::new(false);
    let mut speech_started = None;
    let heard = std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(Duration::from_millis(400));
            player.enqueue(&question);
        });
        microphone.listen_until(
            VadConfig::default(),
            Duration::from_secs(15),
            || speech_started = Some(Instant::now()),
            &never,
        )
    })
    .unwrap();
    assert!(
        speech_started.is_some(),
        "the start of speech was noticed (barge-in)"
    );
    let seconds = heard.duration_s();
    assert!(
        seconds > question.duration_s() * 0.6 && seconds < question.duration_s() + 2.0,
        "an utterance of {seconds:.2} s for a {:.2} s question",
        question.duration_s()
    );
    let text = transcribe_audio(&whisper, &heard, None)
        .unwrap()
        .text
        .to_lowercase();
    assert!(text.contains("go forward"), "{text:?}");

    // Push to talk: the user says they finished while still speaking; listening ends at once.
    player.wait();
    let stop = AtomicBool::new(false);
    let asked = Instant::now();
    let cut = std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(Duration::from_millis(200));
            player.enqueue(&question);
            std::thread::sleep(Duration::from_millis(900));
            stop.store(true, Ordering::SeqCst);
        });
        microphone.listen_until(VadConfig::default(), Duration::from_secs(15), || {}, &stop)
    })
    .unwrap();
    assert!(
        asked.elapsed() < Duration::from_secs(2),
        "stopped when told ({:?})",
        asked.elapsed()
    );
    assert!(cut.duration_s() < question.duration_s(), "{} s", cut.duration_s());
}
