//! Real audio end to end: the default voice (libespeak-ng) speaking Chinese and English, Whisper base
//! (real weights from the registry package, fetched by scripts/setup.sh) transcribing real
//! recordings, and the round trip text → voice → Whisper.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use doctalk_models::DeviceChoice;
use doctalk_speech::whisper::{load_whisper, Transcriber};
use doctalk_voice::text::Lang;
use doctalk_voice::{
    read_wav, speak_text, transcribe_file, write_wav, EspeakSpeaker, Speaker, VoiceCatalog, VoiceError,
    DEFAULT_PIPER_VOICE,
};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn clip(name: &str) -> PathBuf {
    repo().join("tests/fixtures/audio").join(name)
}

fn whisper() -> &'static Transcriber {
    static MODEL: OnceLock<Transcriber> = OnceLock::new();
    MODEL.get_or_init(|| {
        let root = std::env::var_os("DOCTALK_MODELS_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo().join(".models"));
        load_whisper(&root.join("whisper-base"), DeviceChoice::Cpu)
            .expect("whisper-base (run scripts/setup.sh)")
    })
}

/// Lower-case words without punctuation, numbers spelled out ("10" → "ten"), for word error rates.
fn words(text: &str) -> Vec<String> {
    const SMALL: [&str; 20] = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
    ];
    text.to_lowercase()
        .replace('-', " ")
        .split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric() || *c == '\'')
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .map(|w| match w.parse::<usize>() {
            Ok(n) if n < 20 => SMALL[n].to_string(),
            _ => w,
        })
        .collect()
}

/// Levenshtein distance between token sequences.
fn edits<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, x) in a.iter().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, y) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(x != y)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Han characters only, for character error rates (Whisper may answer in traditional characters:
/// the few this test meets are mapped to simplified).
fn han(text: &str) -> Vec<char> {
    text.chars()
        .map(|c| match c {
            '氣' => '气',
            '這' => '这',
            '們' => '们',
            other => other,
        })
        .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
        .collect()
}

#[test]
fn whisper_transcribes_real_english_recordings() {
    let cases = [
        ("en_goforward_16k.wav", "go forward ten meters"),
        (
            "en_librivox_0870_16k.wav",
            "and mister john dashwood had then leisure to consider how much there might be prudently in his power to do for them",
        ),
        ("en_librivox_0880_16k.wav", "he was not an ill disposed young man"),
        ("en_mary_48k.wav", "mary rolled the barrel"),
        ("en_bobby_48k.wav", "bobby ripped the ledger"),
    ];
    let (mut errors, mut total) = (0, 0);
    for (file, reference) in cases {
        let t = transcribe_file(whisper(), &clip(file), None).unwrap();
        assert_eq!(t.language, "en", "{file}: {t:?}");
        let (hyp, refw) = (words(&t.text), words(reference));
        let e = edits(&refw, &hyp);
        eprintln!("{file}: {:?} ({e} word errors of {})", t.text, refw.len());
        errors += e;
        total += refw.len();
    }
    let wer = errors as f64 / total as f64;
    eprintln!(
        "English WER over {} clips: {wer:.3} ({errors}/{total})",
        cases.len()
    );
    assert!(wer <= 0.15, "WER {wer}");
}

#[test]
fn whisper_transcribes_real_mandarin_syllables() {
    let t = transcribe_file(whisper(), &clip("zh_nihao_shijie_syllables_16k.wav"), None).unwrap();
    assert_eq!(t.language, "zh", "{t:?}");
    let cer = edits(&han("你好世界"), &han(&t.text)) as f64 / 4.0;
    eprintln!("你好世界 → {:?} (CER {cer:.2})", t.text);
    assert!(cer <= 0.25, "{t:?}");
    // Told the language, the harder sentence; its error rate is reported, not asserted (joined
    // syllables lose the tone sandhi of natural speech).
    let t = transcribe_file(
        whisper(),
        &clip("zh_jintian_tianqi_henhao_syllables_16k.wav"),
        Some("zh"),
    )
    .unwrap();
    let cer = edits(&han("今天天气很好"), &han(&t.text)) as f64 / 6.0;
    eprintln!("今天天气很好 → {:?} (CER {cer:.2})", t.text);
    assert!(!t.text.is_empty());
}

/// Whisper writes Mandarin in either script; the transcript follows the one asked for.
#[test]
fn mandarin_transcripts_follow_the_chosen_script() {
    use doctalk_models::script::ChineseScript::Simplified;
    let clip = clip("zh_jintian_tianqi_henhao_syllables_16k.wav");
    let cn = transcribe_file(whisper(), &clip, Some("zh-CN")).unwrap();
    let tw = transcribe_file(whisper(), &clip, Some("zh-TW")).unwrap();
    eprintln!("zh-CN {:?}, zh-TW {:?}", cn.text, tw.text);
    assert_eq!((cn.language.as_str(), tw.language.as_str()), ("zh", "zh"));
    assert_eq!(Simplified.convert(&cn.text), cn.text);
    assert_eq!(Simplified.convert(&tw.text), cn.text);
    if cn.text.contains('气') {
        assert!(tw.text.contains('氣'), "{tw:?}");
    }
}

#[test]
fn the_default_voice_speaks_chinese_and_english() {
    let voice = EspeakSpeaker::default();
    let short_en = voice.synthesize("Hello.", Lang::En).unwrap();
    let long_en = voice
        .synthesize("The VPN session lasts at most twelve hours and is disconnected after thirty minutes without traffic.", Lang::En)
        .unwrap();
    let zh = voice
        .synthesize("出差的话一天餐补给一百二十元。", Lang::Zh)
        .unwrap();
    for a in [&short_en, &long_en, &zh] {
        assert_eq!(a.sample_rate, 22050);
        assert!(a.rms() > 0.02, "silent: {}", a.rms());
    }
    assert!(
        short_en.duration_s() > 0.2 && short_en.duration_s() < 2.0,
        "{}",
        short_en.duration_s()
    );
    // Duration grows with the text: ~17 words take several times one word.
    assert!(
        long_en.duration_s() > 4.0 * short_en.duration_s(),
        "{} vs {}",
        long_en.duration_s(),
        short_en.duration_s()
    );
    assert!(
        zh.duration_s() > 1.5 && zh.duration_s() < 8.0,
        "{}",
        zh.duration_s()
    );

    // A mixed answer is read sentence by sentence, citations dropped, and written as a WAV file.
    let answer = speak_text(
        &voice,
        "出差餐补为每天120元[1]。The limit is 120 yuan per day [1].",
    )
    .unwrap();
    assert!(answer.duration_s() > zh.duration_s());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("answer.wav");
    write_wav(&out, &answer).unwrap();
    let back = read_wav(&out).unwrap();
    assert_eq!(
        (back.sample_rate, back.samples.len()),
        (22050, answer.samples.len())
    );
}

#[test]
fn english_survives_the_round_trip_through_the_default_voice_and_whisper() {
    let sentence = "Please open the employee handbook and read the travel policy.";
    let audio = speak_text(&EspeakSpeaker::default(), sentence).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("said.wav");
    write_wav(&path, &audio).unwrap();
    let t = transcribe_file(whisper(), &path, Some("en")).unwrap();
    let (refw, hyp) = (words(sentence), words(&t.text));
    let recovered = refw.iter().filter(|w| hyp.contains(w)).count();
    eprintln!("round trip: {:?} ({recovered}/{} words)", t.text, refw.len());
    assert!(recovered * 10 >= refw.len() * 7, "{:?}", t.text);
}

#[test]
fn bad_input_gets_clear_errors() {
    let voice = EspeakSpeaker::default();
    assert!(matches!(
        speak_text(&voice, "  [1] **  "),
        Err(VoiceError::EmptyText)
    ));
    match speak_text(&voice, "Привет, мир.") {
        Err(VoiceError::UnsupportedLanguage(s)) => assert!(s.contains("Cyrillic")),
        other => panic!("{other:?}"),
    }

    let dir = tempfile::tempdir().unwrap();
    let corrupt = dir.path().join("corrupt.wav");
    std::fs::write(&corrupt, b"RIFF\x10\0\0\0WAVEjunkjunk").unwrap();
    let err = transcribe_file(whisper(), &corrupt, None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("corrupt.wav"), "{err}");
    let mp3 = dir.path().join("song.mp3");
    std::fs::write(&mp3, b"ID3\x04\0\0\0\0\0\0").unwrap();
    assert!(transcribe_file(whisper(), &mp3, None)
        .unwrap_err()
        .to_string()
        .contains("ffmpeg"));

    // Five seconds of silence is no speech, not an invented sentence.
    let silent = dir.path().join("silent.wav");
    write_wav(&silent, &doctalk_voice::Audio::new(vec![0.0; 16000 * 5], 16000)).unwrap();
    let t = transcribe_file(whisper(), &silent, None).unwrap();
    assert!(t.text.is_empty(), "{t:?}");

    let err = transcribe_file(whisper(), &clip("en_goforward_16k.wav"), Some("xx"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("\"xx\""), "{err}");

    // A model directory with a file missing names the file.
    let partial = dir.path().join("whisper-partial");
    std::fs::create_dir(&partial).unwrap();
    std::fs::write(partial.join("tokenizer.json"), "{}").unwrap();
    let err = load_whisper(&partial, DeviceChoice::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("model.bin"), "{err}");
}

fn models_root() -> PathBuf {
    std::env::var_os("DOCTALK_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".models"))
}

/// The voices of a fresh data directory: the Piper voice from the models root, no profiles yet.
/// Cloned voices use tone matching (even where the neural converter is in the HF cache).
fn catalog(data: &Path) -> VoiceCatalog {
    let roots = doctalk_models::SearchRoots {
        models_dir: Some(models_root()),
        ..Default::default()
    };
    VoiceCatalog::new(&roots, &data.join("voices")).with_converter_dir(None)
}

fn transcribe_audio(audio: &doctalk_voice::Audio) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("said.wav");
    write_wav(&path, audio).unwrap();
    transcribe_file(whisper(), &path, Some("en")).unwrap().text
}

#[test]
fn the_piper_voice_speaks_english_that_whisper_understands() {
    let data = tempfile::tempdir().unwrap();
    let catalog = catalog(data.path());
    let listed: Vec<_> = catalog
        .list()
        .into_iter()
        .map(|v| (v.id, v.unavailable))
        .collect();
    assert!(
        listed.contains(&(DEFAULT_PIPER_VOICE.to_string(), None)),
        "{listed:?} (run scripts/setup.sh for the Piper voice)"
    );
    let voice = catalog.open(DEFAULT_PIPER_VOICE).unwrap();
    let sentence = "Please open the employee handbook and read the travel policy.";
    let short = voice.synthesize("Hello.", Lang::En).unwrap();
    let long = voice.synthesize(sentence, Lang::En).unwrap();
    assert_eq!(long.sample_rate, 22050);
    assert!(long.rms() > 0.05, "rms {}", long.rms());
    assert!(
        long.duration_s() > 3.0 * short.duration_s(),
        "{} vs {}",
        long.duration_s(),
        short.duration_s()
    );
    let heard = transcribe_audio(&long);
    let (refw, hyp) = (words(sentence), words(&heard));
    let wer = edits(&refw, &hyp) as f64 / refw.len() as f64;
    eprintln!("piper round trip: {heard:?} (WER {wer:.2})");
    assert!(wer <= 0.2, "{heard:?}");

    // A Chinese sentence in the same answer is read by the default voice, not refused.
    let mixed = speak_text(
        voice.as_ref(),
        "出差餐补为每天120元。The limit is 120 yuan per day.",
    )
    .unwrap();
    assert!(mixed.duration_s() > 3.0, "{}", mixed.duration_s());
}

#[test]
fn a_cloned_voice_sounds_closer_to_its_speaker_than_the_voice_it_is_built_on() {
    use doctalk_voice::features::{cosine, speaker_embedding, ANALYSIS_RATE};
    let data = tempfile::tempdir().unwrap();
    let catalog = catalog(data.path());
    // The profile learns from one recording of a LibriVox reader…
    let profile = catalog
        .profiles
        .add(
            "reader",
            &clip("en_librivox_0870_16k.wav"),
            DEFAULT_PIPER_VOICE,
            "LibriVox reader, public-domain recording (test)",
        )
        .unwrap();
    assert_eq!(profile.base_voice, DEFAULT_PIPER_VOICE);
    assert!(
        !profile.warnings.is_empty(),
        "7 s of speech is below the recommended 10 s"
    );
    let stored = data.path().join("voices/reader");
    for file in ["sample.wav", "profile.json"] {
        assert!(stored.join(file).is_file(), "{file}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(stored.join("profile.json")).unwrap()).unwrap();
    assert!(json["consent"].as_str().unwrap().contains("LibriVox"));
    assert_eq!(
        json["embedding"].as_array().unwrap().len(),
        profile.embedding.len()
    );

    // …and is judged on another recording of the same reader it has never seen.
    let held_out = read_wav(&clip("en_librivox_0880_16k.wav")).unwrap();
    let embed = |a: &doctalk_voice::Audio| {
        speaker_embedding(&doctalk_voice::resample(&a.samples, a.sample_rate, ANALYSIS_RATE)).unwrap()
    };
    let target = embed(&held_out);
    let sentence =
        "The travel policy says that trips abroad must be requested fifteen working days in advance.";
    let base = catalog
        .open(DEFAULT_PIPER_VOICE)
        .unwrap()
        .synthesize(sentence, Lang::En)
        .unwrap();
    let cloned_voice = catalog.open("reader").unwrap();
    assert_eq!(cloned_voice.id(), "reader");
    let cloned = cloned_voice.synthesize(sentence, Lang::En).unwrap();
    let (base_sim, cloned_sim) = (cosine(&embed(&base), &target), cosine(&embed(&cloned), &target));
    let pitch = |a: &doctalk_voice::Audio| doctalk_voice::tone::Tone::measure(a).unwrap().f0_hz;
    eprintln!(
        "similarity to the held-out clip: base {base_sim:.3}, cloned {cloned_sim:.3}; pitch: profile {:.0} Hz, held-out {:.0} Hz, base {:.0} Hz, cloned {:.0} Hz",
        profile.tone.f0_hz,
        pitch(&held_out),
        pitch(&base),
        pitch(&cloned)
    );
    assert!(cloned_sim > base_sim, "cloned {cloned_sim} vs base {base_sim}");
    // The pitch lands on the one measured in the sample (utterances of one speaker differ more).
    let to_profile = |a: &doctalk_voice::Audio| (pitch(a) - profile.tone.f0_hz).abs() / profile.tone.f0_hz;
    assert!(to_profile(&cloned) < 0.05, "cloned pitch {}", pitch(&cloned));
    assert!(
        to_profile(&cloned) < to_profile(&base),
        "base {} was already there",
        pitch(&base)
    );
    // Still intelligible.
    let heard = transcribe_audio(&cloned);
    let recovered = words(sentence)
        .iter()
        .filter(|w| words(&heard).contains(w))
        .count();
    eprintln!(
        "cloned round trip: {heard:?} ({recovered}/{} words)",
        words(sentence).len()
    );
    assert!(recovered * 10 >= words(sentence).len() * 7, "{heard:?}");

    // Listed, then removed with its recording.
    assert!(catalog
        .list()
        .iter()
        .any(|v| v.id == "reader" && v.kind == "cloned"));
    catalog.profiles.remove("reader").unwrap();
    assert!(!stored.exists());
    assert!(matches!(catalog.open("reader"), Err(VoiceError::UnknownVoice(_))));
}

#[test]
fn bad_voice_samples_and_voices_get_clear_errors_and_leave_nothing_behind() {
    let data = tempfile::tempdir().unwrap();
    let catalog = catalog(data.path());
    let store = &catalog.profiles;
    let add = |name: &str, path: &Path| store.add(name, path, "espeak-ng", "test recording");

    let silent = data.path().join("silent.wav");
    write_wav(&silent, &doctalk_voice::Audio::new(vec![0.0; 16000 * 12], 16000)).unwrap();
    let err = add("quiet", &silent).unwrap_err();
    assert!(matches!(err, VoiceError::Silent(_)), "{err}");

    let corrupt = data.path().join("corrupt.wav");
    std::fs::write(&corrupt, b"RIFF\x10\0\0\0WAVEjunkjunk").unwrap();
    let err = add("broken", &corrupt).unwrap_err().to_string();
    assert!(err.contains("corrupt.wav"), "{err}");

    // Two seconds of speech is too little to learn a voice from.
    let err = add("short", &clip("en_mary_48k.wav")).unwrap_err().to_string();
    assert!(err.contains("at least"), "{err}");

    assert!(add("bad/name", &clip("en_librivox_0870_16k.wav")).is_err());
    assert!(add("espeak-ng", &clip("en_librivox_0870_16k.wav")).is_err());
    let err = store
        .add("noconsent", &clip("en_librivox_0870_16k.wav"), "espeak-ng", "  ")
        .unwrap_err()
        .to_string();
    assert!(err.contains("consent"), "{err}");

    // Nothing half-made was left in the voices directory.
    let left: Vec<_> = std::fs::read_dir(store.dir())
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");

    add("twice", &clip("en_librivox_0870_16k.wav")).unwrap();
    assert!(add("twice", &clip("en_librivox_0870_16k.wav"))
        .unwrap_err()
        .to_string()
        .contains("exists"));
    assert!(matches!(catalog.open("nobody"), Err(VoiceError::UnknownVoice(_))));

    // A Piper voice directory missing its model file says which file.
    let models = tempfile::tempdir().unwrap();
    let broken = models.path().join("piper-en_US-broken-medium");
    std::fs::create_dir(&broken).unwrap();
    std::fs::write(broken.join("en_US-broken-medium.onnx.json"), "{}").unwrap();
    let roots = doctalk_models::SearchRoots {
        models_dir: Some(models.path().to_owned()),
        ..Default::default()
    };
    let catalog = VoiceCatalog::new(&roots, &data.path().join("voices"));
    let listed = catalog.list();
    let entry = listed
        .iter()
        .find(|v| v.id == "piper-en_US-broken-medium")
        .unwrap();
    assert!(
        entry.unavailable.as_deref().unwrap_or("").contains(".onnx"),
        "{entry:?}"
    );
    let err = catalog
        .open("piper-en_US-broken-medium")
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains(".onnx"), "{err}");
}

/// A models root holding only the neural converter: the tiny random checkpoint of the converter's
/// parity test, in the hub's layout (`openvoice-v2/converter/…`).
fn models_with_tiny_converter() -> tempfile::TempDir {
    let models = tempfile::tempdir().unwrap();
    let from = repo().join("crates/doctalk-speech/tests/fixtures/openvoice/tiny/converter");
    let to = models.path().join("openvoice-v2/converter");
    std::fs::create_dir_all(&to).unwrap();
    for file in ["config.json", "checkpoint.pth"] {
        std::fs::copy(from.join(file), to.join(file)).unwrap();
    }
    models
}

/// The pipeline of a neural cloned voice: found through the model store, embeddings measured when
/// the voice is added (or on first use), stored in the profile, sentences re-voiced in both
/// languages. OpenVoice V2's weights cannot be had on this machine, so the converter is the tiny
/// random one: this checks the plumbing and the audio's shape, not the likeness (that is the
/// tone-matching test above, and the converter's parity test).
#[test]
fn a_cloned_voice_goes_through_the_neural_converter_where_it_is_installed() {
    let data = tempfile::tempdir().unwrap();
    let models = models_with_tiny_converter();
    let roots = doctalk_models::SearchRoots {
        models_dir: Some(models.path().to_owned()),
        ..Default::default()
    };
    let catalog = VoiceCatalog::new(&roots, &data.path().join("voices"));
    let converter = catalog
        .converter()
        .expect("the model store finds openvoice-v2")
        .unwrap();
    assert_eq!(converter.sample_rate(), 22050);

    let profile = catalog
        .add_voice(
            "reader",
            &clip("en_librivox_0870_16k.wav"),
            "espeak-ng",
            "LibriVox reader, public-domain recording (test)",
        )
        .unwrap();
    let neural = profile.neural.clone().expect("measured when the voice was added");
    assert_eq!(neural.target.len(), converter.embedding_dim());
    assert_eq!(neural.source.keys().collect::<Vec<_>>(), ["en", "zh"]);
    assert!(neural.target.iter().all(|v| v.is_finite()));
    assert_ne!(
        neural.target, neural.source["en"],
        "the recording and the base voice differ"
    );
    let stored = std::fs::read_to_string(data.path().join("voices/reader/profile.json")).unwrap();
    assert!(stored.contains("\"neural\""), "{stored}");
    let listed = catalog.list();
    let entry = listed.iter().find(|v| v.id == "reader").unwrap();
    assert!(entry.engine.contains("neural"), "{}", entry.engine);

    let voice = catalog.open("reader").unwrap();
    let base = EspeakSpeaker::default();
    for (sentence, lang) in [
        (
            "The travel policy asks for fifteen working days of notice.",
            Lang::En,
        ),
        ("出差需要提前十五个工作日申请。", Lang::Zh),
    ] {
        let cloned = voice.synthesize(sentence, lang).unwrap();
        let plain = base.synthesize(sentence, lang).unwrap();
        assert_eq!(cloned.sample_rate, 22050);
        // The converter keeps the timing: as long as the base voice's speech.
        let ratio = cloned.duration_s() / plain.duration_s();
        assert!((0.98..1.02).contains(&ratio), "{lang:?}: {ratio}");
        assert!(cloned.rms() > 0.01, "{lang:?}: silent output");
        assert!(cloned.samples.iter().all(|s| s.is_finite() && s.abs() <= 1.0));
    }
    // Streamed, the pieces come as the decoder makes them and join into the whole conversion
    // (compared on one base recording: eSpeak's own output varies a little from call to call).
    let spoken = base
        .synthesize("Hello there, how are you today?", Lang::En)
        .unwrap();
    let whole = doctalk_voice::neural_tone::convert(&converter, &neural, &spoken, Lang::En).unwrap();
    assert_eq!(
        whole.samples,
        doctalk_voice::neural_tone::convert(&converter, &neural, &spoken, Lang::En)
            .unwrap()
            .samples,
        "the same audio is converted the same way"
    );
    let mut pieces = Vec::new();
    doctalk_voice::neural_tone::convert_streaming(
        &converter,
        &neural,
        &spoken,
        Lang::En,
        24,
        doctalk_voice::neural_tone::Pacing::AsDecoded,
        &mut |a| {
            pieces.push(a.samples);
            Ok(())
        },
    )
    .unwrap();
    assert!(pieces.len() >= 2, "{} pieces", pieces.len());
    assert_eq!(pieces[0].len(), 24 * 256);
    let joined = pieces.concat();
    assert_eq!(joined.len(), whole.samples.len());
    let err = joined
        .iter()
        .zip(&whole.samples)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(err < 1e-4, "streamed vs whole: {err}");
    // Through the voice, pieces are paced so playback never waits mid-sentence (how many depends
    // on the machine's speed): together they are the whole sentence.
    let mut streamed = Vec::new();
    voice
        .synthesize_streaming("Hello there, how are you today?", Lang::En, &mut |a| {
            assert_eq!(a.sample_rate, 22050);
            streamed.extend(a.samples);
            Ok(())
        })
        .unwrap();
    let ratio = streamed.len() as f64 / spoken.samples.len() as f64;
    assert!((0.98..1.02).contains(&ratio), "streamed {ratio} of the sentence");

    // A voice made before the converter was installed is measured on its first use, once.
    let without = VoiceCatalog::new(&roots, &data.path().join("voices")).with_converter_dir(None);
    let early = without
        .add_voice(
            "early",
            &clip("en_librivox_0870_16k.wav"),
            "espeak-ng",
            "test recording",
        )
        .unwrap();
    assert!(early.neural.is_none());
    assert!(without
        .list()
        .iter()
        .any(|v| v.id == "early" && v.engine.contains("tone matching")));
    catalog.open("early").unwrap();
    let early = catalog.profiles.get("early").unwrap();
    assert_eq!(
        early.neural.as_ref().map(|n| n.converter.as_str()),
        Some(neural.converter.as_str())
    );
    let left: Vec<_> = std::fs::read_dir(data.path().join("voices/early"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left.len(), 2, "sample.wav and profile.json only: {left:?}");

    // A damaged converter: opening says which file; adding still makes a tone-matched voice.
    let broken = tempfile::tempdir().unwrap();
    let dir = broken.path().join("converter");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        models.path().join("openvoice-v2/converter/config.json"),
        dir.join("config.json"),
    )
    .unwrap();
    std::fs::write(dir.join("checkpoint.pth"), b"PK\x03\x04 not really a checkpoint").unwrap();
    let damaged = VoiceCatalog::new(&roots, &data.path().join("voices"))
        .with_converter_dir(Some(broken.path().to_owned()));
    let err = damaged
        .open("reader")
        .err()
        .expect("a damaged converter")
        .to_string();
    assert!(err.contains("checkpoint.pth"), "{err}");
    let fallback = damaged
        .add_voice(
            "fallback",
            &clip("en_librivox_0870_16k.wav"),
            "espeak-ng",
            "test recording",
        )
        .unwrap();
    assert!(fallback.neural.is_none());
    assert!(
        fallback.warnings.iter().any(|w| w.contains("tone matching")),
        "{:?}",
        fallback.warnings
    );
}
