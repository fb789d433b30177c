//! Real audio end to end: the default voice (libespeak-ng) speaking Chinese and English, Whisper base
//! (real weights from the registry package, fetched by scripts/setup.sh) transcribing real
//! recordings, and the round trip text → voice → Whisper.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use doctalk_models::whisper::{load_whisper, Transcriber};
use doctalk_models::DeviceChoice;
use doctalk_voice::text::Lang;
use doctalk_voice::{read_wav, speak_text, transcribe_file, write_wav, EspeakSpeaker, Speaker, VoiceError};

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
