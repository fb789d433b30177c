//! `doctalk voice`: the hands-free assistant. A spoken question (from the microphone, cut out by
//! voice-activity detection, or a WAV file standing in for it) → Whisper → the normal cited answer →
//! speech, sentence by sentence while the answer is still being written, so the first sentence is
//! heard before the last is generated. Speaking while it answers stops the answer (barge-in).

use std::process::ExitCode;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use doctalk_core::AnswerEvent;
use doctalk_models::DeviceChoice;
use doctalk_speech::whisper::{find_whisper, load_whisper};
use doctalk_voice::text::{self, SentenceStream};
use doctalk_voice::vad::VadConfig;
use doctalk_voice::{transcribe_file, write_wav, Audio, Microphone, Player, Speaker, VoiceError};
use serde_json::json;

use crate::app::Ctx;
use crate::cli::VoiceArgs;
use crate::output::out_line;

/// Where spoken sentences go.
enum Sink {
    Device(Arc<Player>),
    File(Audio),
}

/// Milestones of one spoken answer, from the moment the question text was known.
#[derive(Default)]
struct Spoken {
    sentences: usize,
    /// The first sentence of the answer was complete in the stream.
    first_sentence_ms: Option<f64>,
    /// Its audio was ready (synthesised) — and, on a device, queued for the sound card.
    first_audio_ms: Option<f64>,
    error: Option<String>,
}

pub async fn run(ctx: &Ctx, args: VoiceArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.out.is_none() || args.input_wav.is_some(),
        "--out writes the answer to a recorded question: use it with --input-wav"
    );
    // Open the devices first: a missing sound card or microphone is an error before any slow work.
    let player = match &args.out {
        Some(_) => None,
        None => Some(Arc::new(Player::open()?)),
    };
    let microphone = match &args.input_wav {
        Some(_) => None,
        None => Some(Microphone::open()?),
    };
    let kb = ctx.open_kb().await?;
    let generator = ctx.load_generator_or_warn(&args.answer).await?;
    let whisper_dir = find_whisper(args.whisper.as_deref(), &ctx.model_roots())?;
    let whisper = Arc::new(
        tokio::task::spawn_blocking(move || load_whisper(&whisper_dir, DeviceChoice::Cpu))
            .await?
            .context("cannot load the speech model")?,
    );
    let speaker: Arc<dyn Speaker> = Arc::from(crate::commands::voice::open_voice(
        ctx,
        args.voice.as_deref(),
        165,
    )?);
    let turn = Turn {
        kb: &kb,
        generator,
        args: &args,
        speaker,
    };

    let Some(mut microphone) = microphone else {
        let input = args.input_wav.clone().expect("checked above");
        let started = Instant::now();
        let (language, file, model) = (args.language.clone(), input.clone(), whisper.clone());
        let transcript =
            tokio::task::spawn_blocking(move || transcribe_file(&model, &file, language.as_deref()))
                .await?
                .with_context(|| format!("cannot transcribe {}", input.display()))?;
        let transcribe_s = started.elapsed().as_secs_f64();
        turn.answer_aloud(&transcript, transcribe_s, player.clone())
            .await?;
        return Ok(ExitCode::SUCCESS);
    };

    // Hands-free: listen, answer aloud, listen again; speaking over the answer stops it (barge-in)
    // and becomes the next question.
    let player = player.expect("a device is open without --out");
    eprintln!("Listening on {} (Ctrl+C quits)…", microphone.device_name());
    loop {
        let stopper = player.clone();
        let listening = tokio::task::spawn_blocking(move || {
            let heard = microphone.listen(VadConfig::default(), Duration::from_secs(30), || stopper.stop());
            (microphone, heard)
        });
        let (mic, heard) = tokio::select! {
            r = listening => r?,
            _ = tokio::signal::ctrl_c() => return Ok(ExitCode::SUCCESS),
        };
        microphone = mic;
        let audio = heard?;
        let pcm = doctalk_voice::resample(
            &audio.samples,
            audio.sample_rate,
            doctalk_speech::whisper::SAMPLE_RATE as u32,
        );
        let (model, language) = (whisper.clone(), args.language.clone());
        let started = Instant::now();
        let transcript =
            tokio::task::spawn_blocking(move || model.transcribe(&pcm, language.as_deref())).await??;
        if transcript.text.trim().is_empty() {
            continue;
        }
        player.resume();
        turn.answer_aloud(&transcript, started.elapsed().as_secs_f64(), Some(player.clone()))
            .await?;
    }
}

/// What every spoken turn needs.
struct Turn<'a> {
    kb: &'a doctalk_core::KnowledgeBase,
    generator: Option<Arc<dyn doctalk_models::llm::Generator>>,
    args: &'a VoiceArgs,
    speaker: Arc<dyn Speaker>,
}

impl Turn<'_> {
    /// Answers a heard question, speaking sentences as the answer streams.
    async fn answer_aloud(
        &self,
        transcript: &doctalk_speech::whisper::Transcript,
        transcribe_s: f64,
        player: Option<Arc<Player>>,
    ) -> anyhow::Result<()> {
        let args = self.args;
        let question = transcript.text.trim().to_string();
        anyhow::ensure!(
            !question.is_empty(),
            VoiceError::Silent("no speech heard in the question".into())
        );
        if !args.json {
            eprintln!("You asked: {question}");
        }
        let sink = match &player {
            Some(p) => Sink::Device(p.clone()),
            None => Sink::File(Audio::new(Vec::new(), 22050)),
        };
        // Sentences flow from the answer stream to a synthesis thread.
        let asked_at = Instant::now();
        let (tx, rx) = mpsc::channel::<(String, Instant)>();
        let speaker = self.speaker.clone();
        let speaker_thread =
            std::thread::spawn(move || speak_sentences(rx, sink, asked_at, speaker.as_ref()));
        let splitter = Arc::new(std::sync::Mutex::new(SentenceStream::default()));
        let (show, stream_tx) = (!args.json, tx.clone());
        let events_splitter = splitter.clone();
        let on_event: doctalk_core::answer::EventSink = Arc::new(move |event| {
            if let AnswerEvent::Token(t) = event {
                if show {
                    eprint!("{t}");
                }
                let done = events_splitter.lock().map(|mut s| s.push(&t)).unwrap_or_default();
                for sentence in done {
                    let _ = stream_tx.send((sentence, Instant::now()));
                }
            }
        });
        let mut req = args.answer.request(question.clone());
        req.generator = self.generator.clone();
        let answer = self.kb.answer(req, on_event).await?;
        if let Some(rest) = splitter.lock().ok().and_then(|mut s| s.finish()) {
            let _ = tx.send((rest, Instant::now()));
        }
        drop(tx);
        let (spoken, sink) = speaker_thread
            .join()
            .map_err(|_| anyhow::anyhow!("the speech thread panicked"))?;
        if let Some(e) = &spoken.error {
            anyhow::bail!("speaking the answer failed: {e}");
        }
        match (sink, &args.out) {
            (Sink::File(audio), Some(path)) => write_wav(path, &audio)?,
            (Sink::Device(player), _) => player.wait(),
            _ => {}
        }
        if args.json {
            let mut v = crate::commands::ask::answer_json(&answer);
            v["question"] = json!(question);
            v["question_language"] = json!(transcript.language);
            v["spoken"] = json!({
                "sentences": spoken.sentences,
                "file": args.out.as_ref().map(|p| p.display().to_string()),
                "transcribe_s": transcribe_s,
                "first_sentence_ms": spoken.first_sentence_ms,
                "first_audio_ms": spoken.first_audio_ms,
                "first_sentence_to_audio_ms": spoken.first_sentence_ms.zip(spoken.first_audio_ms).map(|(s, a)| a - s),
            });
            out_line(&serde_json::to_string_pretty(&v)?)?;
        } else {
            eprintln!();
            crate::commands::ask::print_sources(&answer)?;
        }
        Ok(())
    }
}

/// Synthesises each sentence as it arrives and plays or collects it.
fn speak_sentences(
    rx: mpsc::Receiver<(String, Instant)>,
    mut sink: Sink,
    asked_at: Instant,
    speaker: &dyn Speaker,
) -> (Spoken, Sink) {
    let mut spoken = Spoken::default();
    let ms = |t: Instant| t.duration_since(asked_at).as_secs_f64() * 1000.0;
    for (sentence, completed_at) in rx {
        let lang = match text::detect(&sentence) {
            Ok(l) => l,
            // A sentence in a script no voice speaks is skipped, not fatal to the answer.
            Err(script) => {
                tracing::warn!(script, "skipping a sentence no voice speaks");
                continue;
            }
        };
        // Pieces of the sentence are played (or written) as they are synthesised.
        let mut first_piece = true;
        let result = speaker.synthesize_streaming(&sentence, lang, &mut |audio| {
            match &mut sink {
                Sink::Device(player) => player.enqueue(&audio),
                Sink::File(all) if first_piece => all.append_sentence(&audio),
                Sink::File(all) => all.append_piece(&audio),
            }
            if first_piece && spoken.sentences == 0 {
                spoken.first_sentence_ms = Some(ms(completed_at));
                spoken.first_audio_ms = Some(ms(Instant::now()));
            }
            first_piece = false;
            Ok(())
        });
        if let Err(e) = result {
            spoken.error = Some(e.to_string());
            break;
        }
        spoken.sentences += 1;
    }
    (spoken, sink)
}
