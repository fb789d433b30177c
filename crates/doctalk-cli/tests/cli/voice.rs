//! `doctalk say` and `doctalk transcribe` with the real default voice and the real Whisper base.

use crate::harness::{repo_root, stderr, Doctalk};

#[test]
fn say_writes_a_wav_that_transcribe_hears() {
    let dt = Doctalk::new();
    let out = dt.data.path().join("answer.wav");
    let said = dt.json(&[
        "say",
        "出差餐补为每天一百二十元[1]。Please read the travel policy.",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(said["sample_rate"], 22050, "{said}");
    assert_eq!(said["sentences"], 2, "{said}");
    assert!(said["seconds"].as_f64().unwrap() > 2.0, "{said}");
    assert!(out.is_file());

    let heard = dt.json(&["transcribe", out.to_str().unwrap(), "--json", "--language", "en"]);
    let text = heard["text"].as_str().unwrap().to_lowercase();
    assert!(text.contains("travel") || text.contains("policy"), "{heard}");
    assert!(
        heard["timings"]["real_time_factor"].as_f64().unwrap() > 0.0,
        "{heard}"
    );
}

#[test]
fn voices_list_says_which_voices_work_here() {
    let dt = Doctalk::new();
    let out = dt.run(&["voices", "list", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let voices: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let espeak = &voices[0];
    assert_eq!(espeak["id"], "espeak-ng", "{voices}");
    assert_eq!(espeak["default"], true);
    assert_eq!(espeak["languages"], serde_json::json!(["zh", "en"]));
    assert!(
        espeak["unavailable"].is_null(),
        "setup installs libespeak-ng: {voices}"
    );
}

#[test]
fn transcribe_detects_the_language_of_a_real_recording() {
    let dt = Doctalk::new();
    let clip = repo_root().join("tests/fixtures/audio/en_goforward_16k.wav");
    let heard = dt.json(&["transcribe", clip.to_str().unwrap(), "--json"]);
    assert_eq!(heard["language"], "en", "{heard}");
    assert!(
        heard["text"].as_str().unwrap().to_lowercase().contains("forward"),
        "{heard}"
    );
}

#[test]
fn voice_commands_fail_clearly_on_bad_input() {
    let dt = Doctalk::new();
    let out = dt.run(&["transcribe", "no-such-recording.wav"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no-such-recording.wav"), "{}", stderr(&out));

    let wav = dt.data.path().join("x.wav");
    let out = dt.run(&["say", "  [2]  ", "--out", wav.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no text to speak"), "{}", stderr(&out));
    assert!(!wav.exists(), "nothing is written for nothing said");

    let out = dt.run(&["say", "Привет, мир.", "--out", wav.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("Cyrillic"), "{}", stderr(&out));

    let out = dt.run(&[
        "say",
        "hello",
        "--voice",
        "galadriel",
        "--out",
        wav.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("galadriel"), "{}", stderr(&out));

    // A larger Whisper that is not downloaded: how to get it.
    let clip = repo_root().join("tests/fixtures/audio/en_goforward_16k.wav");
    let out = dt.run(&["transcribe", clip.to_str().unwrap(), "--model", "whisper-medium"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("doctalk models pull whisper-medium"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_voice_assistant_answers_a_spoken_question_aloud() {
    let kb = crate::harness::indexed_sample();
    let scratch = tempfile::tempdir().unwrap();
    let question = scratch.path().join("question.wav");
    let answer = scratch.path().join("answer.wav");
    let out = kb.run(&[
        "say",
        "What is the minimum length for a password?",
        "--out",
        question.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v = kb.json(&[
        "voice",
        "--input-wav",
        question.to_str().unwrap(),
        "--out",
        answer.to_str().unwrap(),
        "--no-llm",
        "--json",
    ]);
    assert_eq!(v["question_language"], "en", "{v}");
    assert!(
        v["question"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("password"),
        "{v}"
    );
    assert!(
        v["sources"][0]["path"]
            .as_str()
            .unwrap()
            .contains("it-security-policy"),
        "{v}"
    );
    assert!(v["spoken"]["sentences"].as_u64().unwrap() >= 1, "{v}");
    assert!(
        v["spoken"]["first_sentence_to_audio_ms"].as_f64().is_some(),
        "{v}"
    );
    let heard = doctalk_voice::read_wav(&answer).unwrap().duration_s();
    assert!(heard > 1.0, "{heard}");
}
