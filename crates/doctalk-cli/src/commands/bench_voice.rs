//! `doctalk bench voice`: how fast the voice is on this machine.
//!
//! - Real-time factor (compute time / audio time; below 1 is faster than real time) of each voice
//!   engine on answer-like sentences (the default voice in Chinese and English; the Piper voice and
//!   a cloned voice made from a test recording in English), and of Whisper on recordings.
//! - First sentence → first audio: the time from an answer sentence being complete to its audio
//!   being ready, which is what the assistant adds before speaking (goal: under 300 ms); on a
//!   machine with a sound card, also until the first sample reaches the device.
//! - Barge-in: from `stop` to the device callback delivering silence (goal: under 100 ms).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use doctalk_models::DeviceChoice;
use doctalk_speech::whisper::{find_whisper, load_whisper};
use doctalk_voice::text::{self, Lang};
use doctalk_voice::{transcribe_file, EspeakSpeaker, Player, Speaker, VoiceCatalog, DEFAULT_PIPER_VOICE};
use serde_json::json;

use crate::app::Ctx;
use crate::cli::BenchVoiceArgs;
use crate::output::out_line;

const SENTENCES: &[&str] = &[
    "出差的话一天餐补给一百二十元。",
    "住宿标准为一线城市每晚不超过六百元。",
    "密码至少需要十二个字符，并且每九十天更换一次。",
    "The VPN session lasts at most twelve hours.",
    "It is disconnected after thirty minutes without traffic.",
    "Passwords must be at least twelve characters long.",
];

fn percentile(values: &mut [f64], p: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    values[((values.len() - 1) as f64 * p).round() as usize]
}

/// {p50, max, n} of `values` (null when there are none).
fn summary(values: &mut [f64]) -> serde_json::Value {
    if values.is_empty() {
        return serde_json::Value::Null;
    }
    json!({"p50": percentile(values, 0.5), "max": percentile(values, 1.0), "n": values.len()})
}

/// Real-time factor and sentence → first audio latency (the first streamed piece) of one voice
/// over `sentences` (three rounds, after one warm-up sentence that loads the engine).
fn measure(voice: &dyn Speaker, sentences: &[&str]) -> anyhow::Result<serde_json::Value> {
    voice.synthesize("warm up", Lang::En)?;
    let (mut latencies, mut synth_s, mut audio_s) = (Vec::new(), 0.0, 0.0);
    for sentence in sentences.iter().cycle().take(sentences.len() * 3) {
        let lang = text::detect(sentence).map_err(anyhow::Error::msg)?;
        let t = Instant::now();
        let mut first: Option<f64> = None;
        voice.synthesize_streaming(sentence, lang, &mut |audio| {
            first.get_or_insert_with(|| t.elapsed().as_secs_f64());
            audio_s += audio.duration_s();
            Ok(())
        })?;
        synth_s += t.elapsed().as_secs_f64();
        latencies.push(first.unwrap_or_default() * 1000.0);
    }
    Ok(json!({
        "voice": voice.id(),
        "real_time_factor": synth_s / audio_s,
        "sentence_to_audio_ms_p50": percentile(&mut latencies, 0.5),
        "sentence_to_audio_ms_max": percentile(&mut latencies, 1.0),
        "sentences": latencies.len(),
    }))
}

pub async fn run(ctx: &Ctx, args: BenchVoiceArgs) -> anyhow::Result<ExitCode> {
    let catalog = crate::commands::voice::catalog(ctx);
    let roots = ctx.model_roots();
    let recordings = if args.recordings.is_empty() {
        let dir = PathBuf::from("tests/fixtures/audio");
        let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        found.retain(|p| p.extension().is_some_and(|e| e == "wav"));
        found.sort();
        found
    } else {
        args.recordings.clone()
    };
    let whisper_dir = find_whisper(None, &ctx.model_roots())?;
    let report = tokio::task::spawn_blocking(move || -> anyhow::Result<serde_json::Value> {
        // Each engine, sentence by sentence, as the assistant speaks answers.
        let voice = EspeakSpeaker::default();
        let espeak = measure(&voice, SENTENCES)?;
        let english: Vec<&str> = SENTENCES.iter().copied().filter(|s| s.is_ascii()).collect();
        let piper = match catalog.open(DEFAULT_PIPER_VOICE) {
            Ok(piper) => measure(piper.as_ref(), &english)?,
            Err(e) => json!({"unavailable": e.to_string()}),
        };
        // A cloned voice built from a real recording, in a scratch profile directory: through the
        // neural converter where its weights are installed, and always through tone matching.
        let scratch = tempfile::tempdir()?;
        let reference = PathBuf::from("tests/fixtures/audio/en_librivox_0870_16k.wav");
        let scratch_catalog = VoiceCatalog::new(&roots, scratch.path());
        let cloned = match scratch_catalog.add_voice(
            "bench",
            &reference,
            &catalog.default_base(),
            "LibriVox reader (public domain recording), benchmark only",
        ) {
            Ok(profile) => {
                let mut engines = serde_json::Map::new();
                if profile.neural.is_some() {
                    let neural = scratch_catalog.open("bench")?;
                    let mut v = measure(neural.as_ref(), &english)?;
                    v["converter"] = json!(scratch_catalog.converter().and_then(|c| c.ok()).map(|c| c.checkpoint.display().to_string()));
                    engines.insert("neural".into(), v);
                }
                let base = catalog.open(&profile.base_voice)?;
                let speaker = doctalk_voice::ClonedSpeaker::new(profile, base);
                engines.insert("tone_matching".into(), measure(&speaker, &english)?);
                engines.insert("base_voice".into(), json!(catalog.default_base()));
                serde_json::Value::Object(engines)
            }
            Err(e) => json!({"unavailable": e.to_string()}),
        };

        // Whisper on recordings.
        let t = Instant::now();
        let model = load_whisper(&whisper_dir, DeviceChoice::Cpu)?;
        let load_s = t.elapsed().as_secs_f64();
        let mut clips = Vec::new();
        let (mut run_total, mut audio_total) = (0.0, 0.0);
        for path in &recordings {
            let t = Instant::now();
            let transcript = transcribe_file(&model, path, None)?;
            let took = t.elapsed().as_secs_f64();
            run_total += took;
            audio_total += transcript.audio_seconds;
            clips.push(json!({"file": path.display().to_string(), "audio_s": transcript.audio_seconds,
                              "transcribe_s": took, "language": transcript.language, "text": transcript.text}));
        }
        let whisper = json!({
            "model": model.model_id(), "load_s": load_s, "clips": clips,
            "real_time_factor": if audio_total > 0.0 { run_total / audio_total } else { 0.0 },
            "note": "each clip is decoded as a full 30 s window, so short clips have a high factor",
        });

        // The sound card, where there is one (bench/voice/with-null-audio.sh gives one that
        // consumes audio in real time on machines without).
        let device = match Player::open() {
            Ok(player) => measure_playback(&player, &voice.synthesize(SENTENCES[3], Lang::En)?),
            Err(e) => json!({"device": null, "unavailable": e.to_string()}),
        };
        Ok(json!({
            "threads": std::thread::available_parallelism().map_or(1, |n| n.get()),
            "espeak": espeak,
            "piper": piper,
            "cloned": cloned,
            "whisper": whisper,
            "playback": device,
            "peak_rss_mib": super::bench::peak_rss_kib().map(|k| k as f64 / 1024.0),
        }))
    })
    .await??;
    if args.json {
        out_line(&report.to_string())?;
    } else {
        out_line(&serde_json::to_string_pretty(&report)?)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Queue → first speech handed to the device, and barge-in: stop → the device callback handing
/// out silence, over several answers interrupted 300 ms into their speech. Both are measured at
/// our side of the device callback; `barge_in_heard_ms_p50` adds the output latency the backend
/// reports (audio already in the device or sound server), i.e. when the speaker goes quiet.
fn measure_playback(player: &Player, audio: &doctalk_voice::Audio) -> serde_json::Value {
    const TRIALS: usize = 10;
    let (mut first, mut stops) = (Vec::new(), Vec::new());
    for _ in 0..TRIALS {
        player.resume();
        let before = player.played_s();
        let queued = Instant::now();
        player.enqueue(audio);
        let deadline = queued + Duration::from_secs(5);
        while player.played_s() <= before && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        if player.played_s() > before {
            first.push(queued.elapsed().as_secs_f64() * 1000.0);
        }
        std::thread::sleep(Duration::from_millis(300));
        let stop = Instant::now();
        player.stop();
        while player.silenced_at().is_none() && stop.elapsed() < Duration::from_secs(2) {
            std::thread::sleep(Duration::from_millis(1));
        }
        if let Some(t) = player.silenced_at() {
            stops.push(t.duration_since(stop).as_secs_f64() * 1000.0);
        }
    }
    let latency_ms = player.output_latency().map(|d| d.as_secs_f64() * 1000.0);
    let heard_ms = latency_ms
        .zip(summary(&mut stops.clone())["p50"].as_f64())
        .map(|(l, s)| l + s);
    json!({
        "device": player.device_name(),
        "trials": TRIALS,
        "output_latency_ms": latency_ms,
        "barge_in_heard_ms_p50": heard_ms,
        "queue_to_first_sample_ms": summary(&mut first),
        "barge_in_stop_ms": summary(&mut stops),
    })
}
