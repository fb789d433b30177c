//! `doctalk say` and `doctalk transcribe`: the voice on its own, for trying voices, scripting, and
//! checking what DocTalk hears.

use std::io::Read;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use doctalk_models::DeviceChoice;
use doctalk_speech::whisper::{find_whisper, load_whisper};
use doctalk_voice::{speak_text, text, transcribe_file, write_wav, EspeakSpeaker, Speaker, VoiceCatalog};
use serde_json::json;

use crate::app::Ctx;
use crate::cli::{SayArgs, TranscribeArgs, VoicesCommand};
use crate::output::out_line;

/// The installation's voices: Piper voices among the model directories, profiles in the data
/// directory's `voices/`.
pub fn catalog(ctx: &Ctx) -> VoiceCatalog {
    VoiceCatalog::new(&ctx.model_roots(), &ctx.data_dir.join("voices"))
}

/// The voice a command speaks with: the one asked for, else the saved setting, else the default.
pub fn open_voice(ctx: &Ctx, requested: Option<&str>, rate_wpm: u32) -> anyhow::Result<Box<dyn Speaker>> {
    let saved = doctalk_core::settings::Settings::load(&ctx.data_dir)
        .ok()
        .and_then(|s| s.voice.voice);
    let id = requested
        .map(str::to_string)
        .or(saved)
        .unwrap_or_else(|| doctalk_voice::ESPEAK_VOICE.into());
    if id == doctalk_voice::ESPEAK_VOICE {
        return Ok(Box::new(EspeakSpeaker { rate_wpm }));
    }
    catalog(ctx)
        .open(&id)
        .with_context(|| format!("cannot open the voice {id:?}"))
}

pub async fn say(ctx: &Ctx, args: SayArgs) -> anyhow::Result<ExitCode> {
    let text = if args.text == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("cannot read standard input")?;
        s
    } else {
        args.text.clone()
    };
    let speaker = open_voice(ctx, args.voice.as_deref(), args.rate)?;
    let Some(out) = &args.out else {
        return play(speaker, text).await;
    };
    let started = Instant::now();
    let spoken = text.clone();
    let voice_id = speaker.id().to_string();
    let audio = tokio::task::spawn_blocking(move || speak_text(speaker.as_ref(), &spoken)).await??;
    let synth_s = started.elapsed().as_secs_f64();
    let sentences = text::sentences(&text).len();
    write_wav(out, &audio)?;
    if args.json {
        out_line(
            &json!({"file": out.display().to_string(), "seconds": audio.duration_s(),
                    "sample_rate": audio.sample_rate, "sentences": sentences, "voice": voice_id,
                    "synthesis_s": synth_s, "real_time_factor": synth_s / audio.duration_s().max(1e-9)})
            .to_string(),
        )?;
    } else {
        eprintln!(
            "Wrote {} ({:.1} s of speech, {} sentence(s), {} Hz).",
            out.display(),
            audio.duration_s(),
            sentences,
            audio.sample_rate
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Speaks on the sound card sentence by sentence: the first is heard while the next is synthesised.
/// Ctrl+C stops within one device period.
async fn play(speaker: Box<dyn Speaker>, text: String) -> anyhow::Result<ExitCode> {
    let sentences = text::sentences(&text);
    anyhow::ensure!(!sentences.is_empty(), doctalk_voice::VoiceError::EmptyText);
    let player = std::sync::Arc::new(doctalk_voice::Player::open()?);
    let stopper = player.clone();
    let work = tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        for sentence in sentences {
            let lang = text::detect(&sentence).map_err(doctalk_voice::VoiceError::UnsupportedLanguage)?;
            speaker.synthesize_streaming(&sentence, lang, &mut |audio| {
                player.enqueue(&audio);
                Ok(())
            })?;
        }
        player.wait();
        Ok(())
    });
    tokio::select! {
        done = work => done??,
        _ = tokio::signal::ctrl_c() => stopper.stop(),
    }
    Ok(ExitCode::SUCCESS)
}

pub fn voices(ctx: &Ctx, cmd: VoicesCommand) -> anyhow::Result<ExitCode> {
    let catalog = catalog(ctx);
    match cmd {
        VoicesCommand::List { json } => list_voices(&catalog, json),
        VoicesCommand::Add {
            name,
            sample,
            consent,
            base,
            json,
        } => {
            let base = base.unwrap_or_else(|| catalog.default_base());
            // The base voice must speak before a profile is built on it.
            catalog
                .open(&base)
                .with_context(|| format!("the base voice {base:?} cannot speak here"))?;
            if catalog.converter().is_some() {
                eprintln!(
                    "Measuring the voice for the neural converter (the base voice reads a short text)…"
                );
            }
            let profile = catalog.add_voice(&name, &sample, &base, &consent)?;
            if json {
                out_line(&serde_json::to_string(&profile)?)?;
            } else {
                let engine = if profile.neural.is_some() {
                    "the neural tone-colour converter"
                } else {
                    "tone matching"
                };
                eprintln!(
                    "Added the voice {name}: {:.1} s of speech, pitch {:.0} Hz, built on {base}, spoken through {engine}.",
                    profile.speech_seconds, profile.tone.f0_hz
                );
                for w in &profile.warnings {
                    eprintln!("Note: {w}");
                }
                eprintln!("Try it: doctalk say --voice {name} \"Hello.\" --out hello.wav");
            }
            Ok(ExitCode::SUCCESS)
        }
        VoicesCommand::Rm { name } => {
            catalog.profiles.remove(&name)?;
            eprintln!("Removed the voice {name} and its recording.");
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn list_voices(catalog: &VoiceCatalog, json: bool) -> anyhow::Result<ExitCode> {
    let voices = catalog.list();
    if json {
        out_line(&serde_json::to_string(&voices)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    for v in &voices {
        let langs: Vec<String> = v
            .languages
            .iter()
            .map(|l| format!("{l:?}").to_lowercase())
            .collect();
        let state = match &v.unavailable {
            None => "ready".to_string(),
            Some(why) => format!("unavailable: {why}"),
        };
        out_line(&format!(
            "{}{}  [{}]  {}\n    {}; licence: {}",
            v.id,
            if v.default { " (default)" } else { "" },
            langs.join(", "),
            state,
            v.engine,
            v.licence
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn transcribe(ctx: &Ctx, args: TranscribeArgs) -> anyhow::Result<ExitCode> {
    let dir = find_whisper(args.model.as_deref(), &ctx.model_roots())?;
    if !args.json {
        eprintln!("Loading {}…", dir.display());
    }
    let started = Instant::now();
    let model = tokio::task::spawn_blocking(move || load_whisper(&dir, DeviceChoice::Cpu))
        .await?
        .context("cannot load the speech model")?;
    let load_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let (file, language) = (args.file.clone(), args.language.clone());
    let transcript =
        tokio::task::spawn_blocking(move || transcribe_file(&model, &file, language.as_deref())).await??;
    let run_s = started.elapsed().as_secs_f64();
    if args.json {
        let mut v = json!(transcript);
        v["timings"] = json!({"load_s": load_s, "transcribe_s": run_s,
                              "real_time_factor": run_s / transcript.audio_seconds.max(1e-9)});
        out_line(&v.to_string())?;
    } else if transcript.text.is_empty() {
        eprintln!("(no speech heard in {:.1} s of audio)", transcript.audio_seconds);
    } else {
        out_line(&transcript.text)?;
        eprintln!(
            "[{}; {:.1} s of audio in {:.1} s]",
            transcript.language, transcript.audio_seconds, run_s
        );
    }
    Ok(ExitCode::SUCCESS)
}
