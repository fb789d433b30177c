//! `doctalk say` and `doctalk transcribe`: the voice on its own, for trying voices, scripting, and
//! checking what DocTalk hears.

use std::io::Read;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use doctalk_models::whisper::{find_whisper, load_whisper};
use doctalk_models::DeviceChoice;
use doctalk_voice::{speak_text, text, transcribe_file, write_wav, EspeakSpeaker};
use serde_json::json;

use crate::app::Ctx;
use crate::cli::{SayArgs, TranscribeArgs, VoicesCommand};
use crate::output::out_line;

pub async fn say(args: SayArgs) -> anyhow::Result<ExitCode> {
    let text = if args.text == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("cannot read standard input")?;
        s
    } else {
        args.text.clone()
    };
    let known: Vec<&str> = doctalk_voice::voices().iter().map(|v| v.id).collect();
    anyhow::ensure!(
        known.contains(&args.voice.as_str()),
        "unknown voice {:?}; available: {} (doctalk voices list)",
        args.voice,
        known.join(", ")
    );
    let speaker = EspeakSpeaker { rate_wpm: args.rate };
    let Some(out) = &args.out else {
        return play(speaker, text).await;
    };
    let started = Instant::now();
    let spoken = text.clone();
    let audio = tokio::task::spawn_blocking(move || speak_text(&speaker, &spoken)).await??;
    let synth_s = started.elapsed().as_secs_f64();
    let sentences = text::sentences(&text).len();
    write_wav(out, &audio)?;
    if args.json {
        out_line(
            &json!({"file": out.display().to_string(), "seconds": audio.duration_s(),
                    "sample_rate": audio.sample_rate, "sentences": sentences, "voice": args.voice,
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
async fn play(speaker: EspeakSpeaker, text: String) -> anyhow::Result<ExitCode> {
    let sentences = text::sentences(&text);
    anyhow::ensure!(!sentences.is_empty(), doctalk_voice::VoiceError::EmptyText);
    let player = std::sync::Arc::new(doctalk_voice::Player::open()?);
    let stopper = player.clone();
    let work = tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        for sentence in sentences {
            let lang = text::detect(&sentence).map_err(doctalk_voice::VoiceError::UnsupportedLanguage)?;
            let audio = doctalk_voice::Speaker::synthesize(&speaker, &sentence, lang)?;
            player.enqueue(&audio);
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

pub fn voices(cmd: VoicesCommand) -> anyhow::Result<ExitCode> {
    let VoicesCommand::List { json } = cmd;
    let voices = doctalk_voice::voices();
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
