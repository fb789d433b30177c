//! What the UI needs from `doctalk serve` beyond questions: several knowledge bases, the original
//! file for the PDF viewer, re-indexing, the one-click sample, settings, and the UI itself.

use crate::harness::{repo_root, Doctalk};
use crate::serve::{http, sse_events, start};

#[test]
fn the_sample_installs_in_one_request_and_its_pdf_can_be_read_back_and_reindexed() {
    let dt = Doctalk::new();
    let server = start(&dt, &["--no-llm"]);
    let a = server.addr.as_str();
    let events = sse_events(&http(a, "POST", "/api/sample", None, b"").body);
    let (name, done) = events.last().unwrap();
    assert_eq!(name, "done", "{events:?}");
    let files = done["files"].as_array().unwrap();
    assert_eq!(files.len(), 3, "{done}");
    assert!(files.iter().all(|f| f["status"] == "indexed"), "{done}");
    let stages: Vec<&str> = events
        .iter()
        .filter_map(|(_, d)| d["stage"]["stage"].as_str())
        .collect();
    for stage in ["parse", "embed", "commit"] {
        assert!(stages.contains(&stage), "no {stage} progress: {stages:?}");
    }
    // Installing again changes nothing.
    let again = sse_events(&http(a, "POST", "/api/sample", None, b"").body);
    let again = &again.last().unwrap().1["files"];
    assert!(
        again
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["status"] == "unchanged"),
        "{again}"
    );

    let docs = http(a, "GET", "/api/documents", None, b"").json();
    let handbook = docs
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["path"].as_str().unwrap().ends_with("员工手册.pdf"))
        .unwrap_or_else(|| panic!("{docs}"));
    let id = handbook["id"].as_str().unwrap();
    let file = http(a, "GET", &format!("/api/documents/{id}/file"), None, b"");
    assert_eq!(file.status, 200);
    assert_eq!(file.content_type, "application/pdf");
    let original = std::fs::read(repo_root().join("examples/sample-kb/员工手册.pdf")).unwrap();
    assert!(file.body.starts_with("%PDF") && file.body.len() > original.len() / 2);

    // Re-indexing an unchanged file commits it again (new id), and the old one is gone.
    let events = sse_events(&http(a, "POST", &format!("/api/documents/{id}/reindex"), None, b"").body);
    let report = &events.last().unwrap().1["files"][0];
    assert_eq!(report["status"], "indexed", "{events:?}");
    let new_id = report["doc_id"].as_str().unwrap();
    assert_ne!(new_id, id);
    let docs = http(a, "GET", "/api/documents", None, b"").json();
    assert_eq!(docs.as_array().unwrap().len(), 3, "{docs}");
    let gone = http(a, "GET", &format!("/api/documents/{id}/file"), None, b"");
    assert_eq!(gone.status, 404, "{}", gone.body);
    assert_eq!(gone.json()["error"]["code"], "not_found");
}

#[test]
fn knowledge_bases_are_separate_and_named_per_request() {
    let dt = Doctalk::new();
    let server = start(&dt, &["--no-llm"]);
    let a = server.addr.as_str();
    let created = http(a, "POST", "/api/kbs", None, br#"{"name": "personal"}"#);
    assert_eq!(created.status, 200, "{}", created.body);
    let bad = http(a, "POST", "/api/kbs", None, br#"{"name": "../x"}"#);
    assert_eq!(bad.status, 400, "{}", bad.body);
    let note = "# Bike\n\nMy bike lock code is 4711.\n";
    let up = http(
        a,
        "POST",
        "/api/ingest?name=bike.md&kb=personal",
        None,
        note.as_bytes(),
    );
    assert_eq!(
        sse_events(&up.body).last().unwrap().1["files"][0]["status"],
        "indexed"
    );

    let personal = http(a, "GET", "/api/documents?kb=personal", None, b"").json();
    assert_eq!(personal.as_array().unwrap().len(), 1, "{personal}");
    let default = http(a, "GET", "/api/documents", None, b"").json();
    assert_eq!(default.as_array().unwrap().len(), 0, "{default}");
    let hits = http(a, "GET", "/api/search?q=bike%20lock&kb=personal", None, b"").json();
    assert!(hits[0]["text"].as_str().unwrap().contains("4711"), "{hits}");
    let kbs = http(a, "GET", "/api/kbs", None, b"").json();
    assert_eq!(kbs["current"], "default");
    let names: Vec<(&str, u64)> = kbs["kbs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["name"].as_str().unwrap(), k["documents"].as_u64().unwrap()))
        .collect();
    assert_eq!(names, vec![("default", 0), ("personal", 1)]);
    let missing = http(a, "GET", "/api/documents?kb=nope", None, b"");
    assert_eq!(missing.status, 404, "{}", missing.body);
    assert!(dt.data.path().join("kb/personal/uploads/bike.md").is_file());
}

#[test]
fn settings_are_saved_checked_and_show_licences_before_downloads() {
    let dt = Doctalk::new();
    let server = start(&dt, &["--no-llm"]);
    let a = server.addr.as_str();
    let s = http(a, "GET", "/api/settings", None, b"").json();
    assert_eq!(s["language"], "auto");
    assert_eq!(s["device"]["current"], "cpu");
    let catalogue = s["catalogue"].as_array().unwrap();
    let e5 = catalogue
        .iter()
        .find(|m| m["id"] == "multilingual-e5-small")
        .unwrap_or_else(|| panic!("{s}"));
    assert_eq!(e5["license"], "MIT");
    assert_eq!(e5["installed"], true, "the test models directory holds it");
    assert!(s["voices"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v["id"] == "espeak-ng"));

    // First run: what the app needs, with licences; a running server has its encoder.
    let setup = http(a, "GET", "/api/setup", None, b"").json();
    assert_eq!(setup["ready"], true, "{setup}");
    let needed: Vec<(&str, &str, bool)> = setup["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["id"].as_str().unwrap(),
                m["role"].as_str().unwrap(),
                m["installed"] == true,
            )
        })
        .collect();
    assert_eq!(
        needed,
        vec![
            ("multilingual-e5-small", "required", true),
            ("qwen2.5-coder-0.5b-instruct-q4_k_m", "recommended", true),
        ],
        "{setup}"
    );
    assert_eq!(setup["models"][1]["license"], "Apache-2.0");
    assert_eq!(
        setup["models"][1]["size_bytes"], 491_400_064,
        "the GGUF is the hub's file"
    );
    assert_eq!(
        setup["models"][0]["size_bytes"],
        serde_json::Value::Null,
        "hub layout sizes unknown"
    );

    // Nothing listens on the discard port: the remote model fails to load, says why, and the
    // server goes on answering without one.
    let patch = br#"{"language": "zh", "model": {"kind": "remote", "url": "http://127.0.0.1:9/v1"}, "data_dir": "/ignored"}"#;
    let saved = http(a, "PUT", "/api/settings", None, patch).json();
    assert_eq!(saved["language"], "zh");
    assert_eq!(saved["model_status"]["state"], "loading", "{saved}");
    assert_eq!(saved["data_dir"], dt.data.path().to_str().unwrap());
    let on_disk: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dt.data.path().join("settings.json")).unwrap()).unwrap();
    assert_eq!(on_disk["model"]["url"], "http://127.0.0.1:9/v1");
    let settled = model_failed(a, "127.0.0.1:9");
    assert_eq!(settled["model_loaded"], serde_json::Value::Null);

    // The Chinese script is saved too (it was dropped before the patch was typed), the device is
    // taken in the shape `settings` shows it, and null clears an optional field.
    let patch = br#"{"script": "traditional", "device": {"current": "cpu", "available": ["cpu"]}, "model": {"kind": "none", "url": null}}"#;
    let saved = http(a, "PUT", "/api/settings", None, patch).json();
    assert_eq!(saved["script"], "traditional", "{saved}");
    assert_eq!(saved["device"]["current"], "cpu");
    assert_eq!(saved["language"], "zh", "untouched");
    let again = http(a, "GET", "/api/settings", None, b"").json();
    assert_eq!(again["script"], "traditional");
    assert_eq!(again["model"]["url"], serde_json::Value::Null);
    let bad = http(a, "PUT", "/api/settings", None, br#"{"device": "tpu"}"#);
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(
        bad.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cpu or cuda"),
        "{}",
        bad.body
    );

    let bad = http(a, "PUT", "/api/settings", None, br#"{"language": "fr"}"#);
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.json()["error"]["message"].as_str().unwrap().contains("fr"));

    // No network here: a download fails with a reason, as an event, and the server goes on.
    let events = sse_events(&http(a, "POST", "/api/models/all-minilm-l6-v2/download", None, b"").body);
    let (name, err) = events.last().unwrap();
    assert_eq!(name, "error", "{events:?}");
    assert_eq!(err["code"], "download_failed");
    let unknown = sse_events(&http(a, "POST", "/api/models/gpt-17/download", None, b"").body);
    assert_eq!(unknown.last().unwrap().0, "error");
    assert_eq!(http(a, "GET", "/api/health", None, b"").status, 200);
}

#[test]
fn the_ui_is_served_with_a_strict_policy_and_without_the_api_token() {
    let dt = Doctalk::new();
    let ui = tempfile::tempdir().unwrap();
    std::fs::create_dir(ui.path().join("assets")).unwrap();
    std::fs::write(
        ui.path().join("index.html"),
        "<!doctype html><title>DocTalk UI</title>",
    )
    .unwrap();
    std::fs::write(ui.path().join("assets/app.js"), "console.log(1)").unwrap();
    std::fs::write(dt.data.path().join("secret.txt"), "s3cr3t").unwrap();
    let ui_dir = ui.path().to_str().unwrap();
    let server = start(&dt, &["--no-llm", "--token", "t0k", "--ui-dir", ui_dir]);
    let a = server.addr.as_str();
    let index = http(a, "GET", "/", None, b"");
    assert_eq!(index.status, 200);
    assert!(index.body.contains("DocTalk UI"));
    assert!(index.content_type.starts_with("text/html"));
    let js = http(a, "GET", "/assets/app.js", None, b"");
    assert_eq!(js.content_type, "text/javascript; charset=utf-8");
    // A client-side route falls back to the page; a climb out of the UI directory does not.
    assert!(http(a, "GET", "/chat/123", None, b"").body.contains("DocTalk UI"));
    let climb = http(a, "GET", "/assets/%2e%2e/%2e%2e/secret.txt", None, b"");
    assert!(!climb.body.contains("s3cr3t"), "{}", climb.body);
    assert_eq!(http(a, "GET", "/api/documents", None, b"").status, 401);
    assert!(
        index
            .head
            .to_ascii_lowercase()
            .contains("content-security-policy: default-src 'self'"),
        "{}",
        index.head
    );
}

#[test]
fn answers_are_read_aloud_as_wav_in_the_chosen_voice() {
    let dt = Doctalk::new();
    let server = start(&dt, &["--no-llm"]);
    let a = server.addr.as_str();
    let body = br#"{"text": "The limit is 120 yuan per day [1]. \u51fa\u5dee\u9910\u8865\u4e3a\u6bcf\u5929120\u5143\u3002"}"#;
    let wav = http(a, "POST", "/api/speak", None, body);
    assert_eq!(wav.status, 200, "{}", wav.body);
    assert_eq!(wav.content_type, "audio/wav");
    assert!(
        wav.body.starts_with("RIFF"),
        "{:?}",
        &wav.body[..16.min(wav.body.len())]
    );
    let length: usize = wav
        .head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .expect("content-length");
    let seconds = (length - 44) as f64 / 2.0 / 22050.0;
    assert!(seconds > 2.0, "{seconds} s for two sentences");

    // The Piper voice (an English voice that hands Chinese to the default voice).
    let piper = http(
        a,
        "POST",
        "/api/speak",
        None,
        br#"{"text": "Welcome back.", "voice": "piper-en_US-joe-medium"}"#,
    );
    assert_eq!(piper.status, 200, "{}", piper.body);

    let empty = http(a, "POST", "/api/speak", None, br#"{"text": " [1] "}"#);
    assert_eq!(empty.status, 400, "{}", empty.body);
    let unknown = http(
        a,
        "POST",
        "/api/speak",
        None,
        br#"{"text": "Hi.", "voice": "nobody"}"#,
    );
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    assert!(unknown.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("nobody"));
}

/// The last event of an SSE reply: ("done" | "error", data).
fn last_event(reply: &crate::serve::Reply) -> (String, serde_json::Value) {
    assert_eq!(reply.status, 200, "{}", reply.body);
    sse_events(&reply.body).pop().expect("an event")
}

#[test]
fn cloned_voices_are_made_from_an_uploaded_recording_and_removed() {
    let dt = Doctalk::new();
    let server = start(&dt, &["--no-llm"]);
    let a = server.addr.as_str();
    let sample = std::fs::read(repo_root().join("tests/fixtures/audio/en_librivox_0870_16k.wav")).unwrap();
    let add = |query: &str, body: &[u8]| http(a, "POST", &format!("/api/voices?{query}"), None, body);

    let made = add(
        "name=reader&consent=LibriVox%20reader%2C%20public%20domain&base=espeak-ng",
        &sample,
    );
    let events = sse_events(&made.body);
    assert!(
        events
            .iter()
            .any(|(e, d)| e == "progress" && d["stage"] == "reading"),
        "{events:?}"
    );
    let (event, done) = events.last().cloned().unwrap();
    assert_eq!(event, "done", "{done}");
    assert_eq!(done["voice"]["id"], "reader");
    assert_eq!(done["voice"]["base_voice"], "espeak-ng");
    assert!(done["voice"]["speech_seconds"].as_f64().unwrap() > 5.0, "{done}");
    // No converter weights in this data directory: tone matching, and the list says how to get more.
    assert_eq!(done["voice"]["engine"], "tone-matching");
    let settings = http(a, "GET", "/api/settings", None, b"").json();
    let listed = settings["voices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == "reader")
        .cloned()
        .expect("the new voice is listed");
    assert_eq!(listed["kind"], "cloned");
    assert!(
        listed["engine"].as_str().unwrap().contains("openvoice-v2"),
        "{listed}"
    );
    assert!(settings["catalogue"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["id"] == "openvoice-v2"
            && m["kind"] == "tone-converter"
            && m["license"].as_str().unwrap().contains("MIT")));

    let spoken = http(
        a,
        "POST",
        "/api/speak",
        None,
        br#"{"text": "Hello there.", "voice": "reader"}"#,
    );
    assert_eq!(spoken.status, 200, "{}", spoken.body);
    assert!(spoken.body.starts_with("RIFF"));

    // Bad uploads fail with the reason, and leave nothing behind.
    let failures = [
        (
            "name=broken&consent=test",
            &b"RIFF\x10\0\0\0WAVEjunkjunk"[..],
            "not usable audio",
        ),
        ("name=quiet&consent=test", &b""[..], "empty"),
        ("name=nobody&consent=", &sample[..], "consent"),
        ("name=reader&consent=test", &sample[..], "exists"),
        (
            "name=bad%2Fname&consent=test",
            &sample[..],
            "not a usable voice name",
        ),
    ];
    for (query, body, reason) in failures {
        let (event, data) = last_event(&add(query, body));
        assert_eq!(event, "error", "{query}: {data}");
        let message = data["message"].as_str().unwrap_or_default();
        assert!(message.contains(reason), "{query}: {data}");
    }
    let voices_dir = dt.data.path().join("voices");
    let mut left: Vec<String> = std::fs::read_dir(&voices_dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["reader"], "only the good voice, no uploads left over");

    // Chosen to read answers, then deleted: answers go back to the default voice.
    let chosen = http(
        a,
        "PUT",
        "/api/settings",
        None,
        br#"{"voice": {"enabled": true, "voice": "reader"}}"#,
    );
    assert_eq!(chosen.status, 200, "{}", chosen.body);
    let removed = http(a, "DELETE", "/api/voices/reader", None, b"");
    assert_eq!(removed.status, 200, "{}", removed.body);
    assert_eq!(removed.json()["voice_reset"], true);
    let settings = http(a, "GET", "/api/settings", None, b"").json();
    assert_eq!(settings["voice"]["voice"], serde_json::Value::Null, "{settings}");
    assert_eq!(settings["voice"]["enabled"], true);
    assert_eq!(http(a, "DELETE", "/api/voices/reader", None, b"").status, 404);
    let gone = http(
        a,
        "POST",
        "/api/speak",
        None,
        br#"{"text": "Hi.", "voice": "reader"}"#,
    );
    assert_eq!(gone.status, 404, "{}", gone.body);
}

#[test]
fn spoken_questions_are_transcribed_for_the_microphone_button() {
    let dt = Doctalk::new();
    let server = start(&dt, &["--no-llm"]);
    let a = server.addr.as_str();
    let clip = std::fs::read(repo_root().join("tests/fixtures/audio/en_goforward_16k.wav")).unwrap();
    let heard = http(a, "POST", "/api/transcribe", None, &clip);
    assert_eq!(heard.status, 200, "{}", heard.body);
    let heard = heard.json();
    let text = heard["text"].as_str().unwrap().to_lowercase();
    assert!(text.contains("go forward"), "{heard}");
    assert_eq!(heard["language"], "en");
    assert!(heard["audio_seconds"].as_f64().unwrap() > 1.0, "{heard}");

    let forced = http(a, "POST", "/api/transcribe?language=en", None, &clip).json();
    assert!(
        forced["text"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("forward"),
        "{forced}"
    );
    for (query, body, reason) in [
        ("?language=xx", &clip[..], "does not know the language"),
        ("", &b"RIFF\x10\0\0\0WAVEjunkjunk"[..], "not usable audio"),
        ("", &b""[..], "not usable audio"),
    ] {
        let reply = http(a, "POST", &format!("/api/transcribe{query}"), None, body);
        assert_eq!(reply.status, 400, "{query}: {}", reply.body);
        assert!(reply.body.contains(reason), "{query}: {}", reply.body);
    }
}

/// GET /api/settings until the language model is no longer loading (at most two minutes).
fn model_settled(addr: &str) -> serde_json::Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let s = http(addr, "GET", "/api/settings", None, b"").json();
        if s["model_status"]["state"] != "loading" {
            return s;
        }
        assert!(std::time::Instant::now() < deadline, "still loading: {s}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// Waits for the model to settle, checks it failed with a message naming `mentioning`.
#[track_caller]
fn model_failed(addr: &str, mentioning: &str) -> serde_json::Value {
    let settled = model_settled(addr);
    assert_eq!(settled["model_status"]["state"], "failed", "{settled}");
    let message = settled["model_status"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(mentioning), "{settled}");
    settled
}

#[test]
fn the_language_model_switches_while_the_server_runs() {
    let dt = Doctalk::new();
    let notes = tempfile::tempdir().unwrap();
    let note = notes.path().join("parking.md");
    std::fs::write(
        &note,
        "# Parking\n\nUnderground parking is on level B2 and costs 300 per month.\n",
    )
    .unwrap();
    assert!(dt.run(&["ingest", note.to_str().unwrap()]).status.success());
    let server = start(&dt, &["--no-llm"]);
    let a = server.addr.as_str();
    let ask = |q: &str| {
        http(
            a,
            "POST",
            "/api/ask",
            None,
            serde_json::json!({"question": q}).to_string().as_bytes(),
        )
        .json()
    };
    let question = "Where is the underground parking?";
    assert_eq!(ask(question)["mode"], "extractive");

    // The default local model (real weights from the test models directory), loaded live.
    let saved = http(
        a,
        "PUT",
        "/api/settings",
        None,
        br#"{"model": {"kind": "local"}}"#,
    )
    .json();
    assert_eq!(saved["model_status"]["state"], "loading", "{saved}");
    let settled = model_settled(a);
    assert_eq!(settled["model_status"]["state"], "ready", "{settled}");
    let model = settled["model_loaded"]
        .as_str()
        .unwrap_or_else(|| panic!("{settled}"))
        .to_string();
    assert!(model.contains("qwen"), "{settled}");
    let answer = ask(question);
    assert_eq!(answer["mode"], "llm", "{answer}");
    assert_eq!(answer["model"], model.as_str(), "{answer}");
    let listed = http(a, "GET", "/v1/models", None, b"").json();
    assert!(
        listed["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == model.as_str()),
        "{listed}"
    );

    // A model file that does not exist: the loaded model keeps answering, and the reason is shown.
    let missing = dt.data.path().join("nowhere.gguf");
    let patch = serde_json::json!({"model": {"kind": "local", "path": missing}}).to_string();
    http(a, "PUT", "/api/settings", None, patch.as_bytes()).json();
    let settled = model_failed(a, "nowhere.gguf");
    assert_eq!(settled["model_loaded"], model.as_str());
    assert_eq!(ask(question)["mode"], "llm");

    // Off takes effect at once.
    let off = http(a, "PUT", "/api/settings", None, br#"{"model": {"kind": "none"}}"#).json();
    assert_eq!(off["model_status"]["state"], "off", "{off}");
    assert_eq!(off["model_loaded"], serde_json::Value::Null);
    assert_eq!(ask(question)["mode"], "extractive");
}

/// "Check answers" over the API: the questions asked of the sample, scored as `bench answers`
/// scores them, with progress; a bad question list is refused with its line; without a model the
/// report says why the model was not measured.
#[test]
fn check_answers_scores_questions_with_progress_and_names_a_bad_line() {
    let dt = Doctalk::new();
    let server = serving_the_sample(&dt);
    let a = server.addr.as_str();

    let body = serde_json::json!({
        "questions": [
            {"q": "如何登陆管理员后台", "expect_any": ["admin.xinghe-tech.cn"]},
            {"q": "滴滴企业版的企业码是什么？", "expect_any": ["XHKJ2025"]},
        ],
        "jsonl": "{\"q\": \"境外出差要提前几个工作日申请？\", \"expect_any\": [\"15个工作日\"], \"source\": \"员工手册.pdf\"}\n",
    });
    let events = sse_events(&http(a, "POST", "/api/check-answers", None, body.to_string().as_bytes()).body);
    let progress: Vec<u64> = events
        .iter()
        .filter(|(name, _)| name == "progress")
        .map(|(_, d)| d["done"].as_u64().unwrap())
        .collect();
    assert_eq!(progress, vec![1, 2, 3], "{events:?}");
    let (name, report) = events.last().unwrap();
    assert_eq!(name, "done", "{events:?}");
    let modes = report["modes"].as_array().unwrap();
    assert_eq!(modes.len(), 1, "{report}");
    assert_eq!(modes[0]["mode"], "extractive");
    assert_eq!(modes[0]["totals"]["questions"], 3);
    assert_eq!(
        modes[0]["totals"]["fact_and_citation_rate"].as_f64(),
        Some(1.0),
        "{report}"
    );
    assert!(
        report["without_llm"]
            .as_str()
            .unwrap()
            .contains("no language model"),
        "{report}"
    );
    assert_eq!(report["questions"][2]["q"], "境外出差要提前几个工作日申请？");

    let bad = serde_json::json!({"jsonl": "{\"q\": \"ok\", \"expect_any\": [\"1\"]}\n{\"q\": \"no facts\"}"});
    let events = sse_events(&http(a, "POST", "/api/check-answers", None, bad.to_string().as_bytes()).body);
    let (name, error) = events.last().unwrap();
    assert_eq!(name, "error", "{events:?}");
    assert_eq!(error["code"], "check_failed");
    assert!(error["message"].as_str().unwrap().contains("line 2"), "{error}");
}

/// The scope over the API: `/api/search?docs=`, `scope` in `/api/ask`, and the OpenAI endpoint's
/// extra `scope` field keep to the chosen documents; an unknown one is a 404 naming it.
#[test]
fn search_and_answers_over_the_api_keep_to_a_scope() {
    let dt = Doctalk::new();
    let server = serving_the_sample(&dt);
    let a = server.addr.as_str();
    let docs = http(a, "GET", "/api/documents", None, b"").json();
    let policy = docs
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["path"].as_str().unwrap().ends_with("it-security-policy.pdf"))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let q = "%E5%87%BA%E5%B7%AE%E4%BD%8F%E5%AE%BF%E6%A0%87%E5%87%86"; // 出差住宿标准
    let hits = http(
        a,
        "GET",
        &format!("/api/search?q={q}&k=5&docs={policy}"),
        None,
        b"",
    )
    .json();
    let hits = hits.as_array().unwrap();
    assert!(
        !hits.is_empty() && hits.iter().all(|h| h["doc_id"] == policy.as_str()),
        "{hits:?}"
    );

    let ask = serde_json::json!({"question": "境外出差要提前几个工作日申请", "no_llm": true, "scope": {"docs": ["员工手册.pdf"]}});
    let answer = http(a, "POST", "/api/ask", None, ask.to_string().as_bytes()).json();
    assert!(
        answer["answer"].as_str().unwrap().contains("15个工作日"),
        "{answer}"
    );
    assert!(answer["sources"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["path"].as_str().unwrap().ends_with("员工手册.pdf")));

    let openai = serde_json::json!({
        "messages": [{"role": "user", "content": "境外出差要提前几个工作日申请"}],
        "scope": {"docs": [policy]},
    });
    let completion = http(
        a,
        "POST",
        "/v1/chat/completions",
        None,
        openai.to_string().as_bytes(),
    )
    .json();
    let sources = completion["sources"].as_array().unwrap();
    assert!(
        sources
            .iter()
            .all(|s| s["path"].as_str().unwrap().ends_with("it-security-policy.pdf")),
        "{completion}"
    );

    let unknown = serde_json::json!({"question": "出差", "no_llm": true, "scope": {"docs": ["nowhere.pdf"]}});
    let r = http(a, "POST", "/api/ask", None, unknown.to_string().as_bytes());
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(r.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("nowhere.pdf"));
}

/// A document's summary over the API: progress, then the cited summary; an unknown id is a 404.
#[test]
fn a_document_summary_streams_its_progress() {
    let dt = Doctalk::new();
    let server = serving_the_sample(&dt);
    let a = server.addr.as_str();
    let docs = http(a, "GET", "/api/documents", None, b"").json();
    let id = docs.as_array().unwrap()[0]["id"].as_str().unwrap().to_string();
    let events = sse_events(
        &http(
            a,
            "POST",
            &format!("/api/documents/{id}/summary?length=long"),
            None,
            b"",
        )
        .body,
    );
    assert!(events.iter().any(|(name, _)| name == "progress"), "{events:?}");
    let (name, summary) = events.last().unwrap();
    assert_eq!(name, "done", "{events:?}");
    assert_eq!(summary["doc_id"], id.as_str());
    assert_eq!(summary["mode"], "extractive");
    assert!(summary["summary"].as_str().unwrap().contains("[1]"), "{summary}");
    let missing = sse_events(&http(a, "POST", "/api/documents/0123456789abcdef/summary", None, b"").body);
    let (name, error) = missing.last().unwrap();
    assert_eq!(name, "error", "{missing:?}");
    assert_eq!(error["code"], "summary_failed");
}

/// `doctalk serve --no-llm` with the sample knowledge base installed.
fn serving_the_sample(dt: &Doctalk) -> crate::serve::Server {
    let server = start(dt, &["--no-llm"]);
    let events = sse_events(&http(&server.addr, "POST", "/api/sample", None, b"").body);
    assert_eq!(events.last().unwrap().0, "done", "{events:?}");
    server
}
