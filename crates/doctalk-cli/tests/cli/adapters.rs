//! LoRA adapters from the doors: `--adapter NAME|PATH` on `generate`, adapters kept in
//! `<data dir>/adapters/` listed by `models list`, and the settings' adapter applied by `serve`.
//! The base is the tiny random Qwen2 GGUF of models/gen/lora_tiny.py and the adapter the one PEFT
//! made for it; their logits are checked against PEFT in doctalk-models' `llm_adapters` test.

use std::io::{BufRead, BufReader, Lines, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Stdio};

use crate::harness::{repo_root, stderr, Doctalk};
use crate::serve::{http, sse_events, start};

fn lora(rel: &str) -> PathBuf {
    repo_root()
        .join("crates/doctalk-models/tests/fixtures/lora")
        .join(rel)
}

fn tiny_base() -> String {
    lora("qwen2/base/model.gguf").display().to_string()
}

/// Keeps a copy of the Qwen2 PEFT adapter in the data directory under `name`.
fn keep_adapter(dt: &Doctalk, name: &str) -> PathBuf {
    let kept = dt.data.path().join("adapters").join(name);
    std::fs::create_dir_all(&kept).unwrap();
    for file in ["adapter_config.json", "adapter_model.safetensors"] {
        std::fs::copy(lora("qwen2/peft").join(file), kept.join(file)).unwrap();
    }
    kept
}

fn generate(dt: &Doctalk, extra: &[&str]) -> serde_json::Value {
    let base = tiny_base();
    let mut args = vec![
        "generate",
        "w5 w17 w42 w8",
        "--raw",
        "--model",
        base.as_str(),
        "--max-tokens",
        "8",
        "--json",
    ];
    args.extend_from_slice(extra);
    dt.json(&args)
}

#[test]
fn a_kept_adapter_is_listed_chosen_by_name_and_changes_what_the_model_writes() {
    let dt = Doctalk::new();
    keep_adapter(&dt, "faq-tuned");
    let list = dt.json(&["models", "list", "--json"]);
    let entry = list
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["short_name"] == "faq-tuned")
        .unwrap_or_else(|| panic!("the kept adapter is listed: {list}"));
    assert_eq!(entry["kind"], "lora-adapter");
    assert_eq!(entry["format"], "peft");
    assert_eq!(entry["layers"], 14);
    assert!(entry["error"].is_null(), "{entry}");

    let plain = generate(&dt, &[]);
    let adapted = generate(&dt, &["--adapter", "faq-tuned"]);
    assert_eq!(plain["model"], "model");
    assert_eq!(adapted["model"], "model+faq-tuned");
    // Greedy decoding of the same prompt: the adapter's change to the logits shows in the words.
    assert_ne!(plain["text"], adapted["text"], "{plain} / {adapted}");
    // A path works as well as a name, and gives the same words.
    let by_path = generate(&dt, &["--adapter", lora("qwen2/peft").to_str().unwrap()]);
    assert_eq!(by_path["text"], adapted["text"]);
}

#[test]
fn a_missing_or_mismatched_adapter_is_a_clear_error() {
    let dt = Doctalk::new();
    let base = tiny_base();
    let out = dt.run(&["generate", "w5", "--model", &base, "--adapter", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("\"nope\"") && err.contains("adapters"), "{err}");

    let glm = lora("glm-hf/peft");
    let out = dt.run(&[
        "generate",
        "w5",
        "--model",
        &base,
        "--adapter",
        glm.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("does not fit") && err.contains("gate_up_proj"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn the_server_applies_the_adapter_the_settings_choose() {
    let dt = Doctalk::new();
    keep_adapter(&dt, "faq-tuned");
    let base = tiny_base();
    let server = start(&dt, &["--model", &base]);
    let a = server.addr.as_str();
    let settings = http(a, "GET", "/api/settings", None, b"").json();
    let listed: Vec<&str> = settings["adapters"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x["name"].as_str())
        .collect();
    assert_eq!(listed, ["faq-tuned"]);
    assert!(settings["adapters_dir"].as_str().unwrap().ends_with("adapters"));

    let patch = serde_json::json!({"model": {"kind": "local", "path": base, "adapter": "faq-tuned"}});
    let saved = http(a, "PUT", "/api/settings", None, patch.to_string().as_bytes());
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert_eq!(saved.json()["model"]["adapter"], "faq-tuned");
    let model = wait_for_model(a, |m| m == "model+faq-tuned");
    assert_eq!(model, "model+faq-tuned");

    // An adapter made for another model: the old model keeps answering and the reason is shown.
    let glm = lora("glm-hf/peft");
    let patch = serde_json::json!({"model": {"kind": "local", "path": base, "adapter": glm}});
    assert_eq!(
        http(a, "PUT", "/api/settings", None, patch.to_string().as_bytes()).status,
        200
    );
    let status = wait_for_status(a, |s| s["state"] == "failed");
    let message = status["message"].as_str().unwrap();
    assert!(message.contains("does not fit"), "{status}");
    assert_eq!(status["model"], "model+faq-tuned");
    // The choice is saved for the next start.
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dt.data.path().join("settings.json")).unwrap())
            .unwrap();
    assert_eq!(Path::new(saved["model"]["adapter"].as_str().unwrap()), glm);
}

fn wait_for_status(addr: &str, done: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    for _ in 0..600 {
        let status = http(addr, "GET", "/api/settings", None, b"").json()["model_status"].clone();
        if done(&status) {
            return status;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the model status did not settle within 60 s");
}

fn wait_for_model(addr: &str, done: impl Fn(&str) -> bool) -> String {
    let status = wait_for_status(addr, |s| {
        s["state"] == "ready" && s["model"].as_str().is_some_and(&done) || s["state"] == "failed"
    });
    assert_eq!(status["state"], "ready", "{status}");
    status["model"].as_str().unwrap().to_string()
}

/// `doctalk tune` on an FAQ export: the adapter lands where `--adapter NAME` finds it, and the
/// model then says the taught answer.
#[test]
fn tune_trains_an_adapter_that_generate_then_uses() {
    let dt = Doctalk::new();
    let faq = lora("qwen2/faq.csv");
    let base = tiny_base();
    let report = dt.json(&[
        "tune",
        "--faq",
        faq.to_str().unwrap(),
        "--base",
        &base,
        "--rank",
        "4",
        "--alpha",
        "8",
        "--learning-rate",
        "0.01",
        "--epochs",
        "30",
        "--json",
    ]);
    assert_eq!(report["train_pairs"], 7, "{report}");
    assert!(report["train_loss"].as_f64().unwrap() < 0.1, "{report}");
    let kept = dt.data.path().join("adapters/default-tuned");
    assert_eq!(Path::new(report["adapter"].as_str().unwrap()), kept);
    // The first row of the export: "w10 w20 w30" was taught "w40 w50 w60" (unless it was the
    // held-out one; then the second row).
    let csv = std::fs::read_to_string(&faq).unwrap();
    let taught = csv
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(','))
        .find(|(q, a)| {
            let out = generate_with(&dt, q, &["--adapter", "default-tuned"]);
            out["text"].as_str().unwrap().trim() == *a
        });
    assert!(taught.is_some(), "no taught answer came back");
}

/// A tuning run of the tiny model long enough to be interrupted: its arguments (the last one the
/// step budget) and the process, with its progress lines.
fn start_long_tuning(dt: &Doctalk, out: &Path) -> (Vec<String>, Child, Lines<BufReader<ChildStderr>>) {
    let args: Vec<String> = [
        "tune",
        "--faq",
        lora("qwen2/faq.csv").to_str().unwrap(),
        "--base",
        &tiny_base(),
        "--out",
        out.to_str().unwrap(),
        "--rank",
        "4",
        "--epochs",
        "3000",
        "--max-steps",
        "20000",
    ]
    .map(String::from)
    .to_vec();
    let mut child = dt
        .command()
        .args(&args)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stderr.take().unwrap()).lines();
    (args, child, lines)
}

/// The step of the checkpoint in `out`, then a resumed run two steps past it.
fn resume_two_steps(dt: &Doctalk, out: &Path, args: &[String]) -> (u64, serde_json::Value) {
    // A run killed between the two renames of a save leaves only the previous checkpoint, set
    // aside as `checkpoint.old`; resuming takes that one, and so does this.
    let state_path = ["checkpoint", "checkpoint.old"]
        .map(|d| out.join(d).join("state.json"))
        .into_iter()
        .find(|p| p.is_file())
        .expect("a checkpoint");
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(state_path).unwrap()).unwrap();
    let saved = state["step"].as_u64().unwrap();
    // The step budget may change between runs; the settings that shape the training may not.
    let finish = (saved + 2).to_string();
    let mut resume: Vec<&str> = args[..args.len() - 1].iter().map(String::as_str).collect();
    resume.extend_from_slice(&[&finish, "--resume", "--json"]);
    let report = dt.json(&resume);
    assert_eq!(report["resumed_at"].as_u64(), Some(saved), "{report}");
    assert_eq!(report["steps"].as_u64(), Some(saved + 2), "{report}");
    assert!(out.join("adapter_model.safetensors").is_file());
    (saved, report)
}

#[test]
fn ctrl_c_stops_tuning_at_a_checkpoint_that_resume_continues() {
    let dt = Doctalk::new();
    let out = dt.data.path().join("run");
    let (args, mut child, mut lines) = start_long_tuning(&dt, &out);
    // Wait until it is training, then interrupt it as Ctrl+C would.
    for line in lines.by_ref() {
        if line.unwrap().starts_with("step ") {
            break;
        }
    }
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{rest:?}");
    assert!(
        rest.iter().any(|l| l.starts_with("checkpoint saved at step")),
        "{rest:?}"
    );
    assert!(!out.join("adapter_model.safetensors").exists());
    resume_two_steps(&dt, &out, &args);
}

/// `kill -9` during training loses at most the steps since the last checkpoint.
#[test]
fn a_killed_tuning_run_resumes_from_its_last_checkpoint() {
    let dt = Doctalk::new();
    let out = dt.data.path().join("run");
    let (args, mut child, lines) = start_long_tuning(&dt, &out);
    let mut reached = 0u64;
    for line in lines {
        if let Some(rest) = line.unwrap().strip_prefix("step ") {
            reached = rest.split('/').next().unwrap().parse().unwrap();
            if reached > 100 {
                break;
            }
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let (saved, _) = resume_two_steps(&dt, &out, &args);
    // Checkpoints come every 25 steps, each written just after its step's line is printed: the
    // run was killed at `reached` or later, possibly while writing the checkpoint of `reached`
    // itself (seen: "step 150" read, killed while saving 150, so 125 was the one on disk).
    assert!(
        saved + 25 >= reached && saved.is_multiple_of(25),
        "saved {saved}, reached {reached}"
    );
}

fn generate_with(dt: &Doctalk, prompt: &str, extra: &[&str]) -> serde_json::Value {
    let base = tiny_base();
    let mut args = vec![
        "generate",
        prompt,
        "--model",
        base.as_str(),
        "--max-tokens",
        "6",
        "--json",
    ];
    args.extend_from_slice(extra);
    dt.json(&args)
}

#[test]
fn empty_faqs_and_missing_bases_are_clear_errors() {
    let dt = Doctalk::new();
    let base = tiny_base();
    let empty = dt.data.path().join("empty.csv");
    std::fs::write(&empty, "question,answer\n").unwrap();
    let out = dt.run(&["tune", "--faq", empty.to_str().unwrap(), "--base", &base]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("no question–answer pairs"), "{err}");

    let one = dt.data.path().join("one.csv");
    std::fs::write(&one, "question,answer\nw1 w2,w3 w4\n").unwrap();
    let out = dt.run(&["tune", "--faq", one.to_str().unwrap(), "--base", &base]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("at least 2"), "{}", stderr(&out));

    let faq = lora("qwen2/faq.csv");
    let out = dt.run(&[
        "tune",
        "--faq",
        faq.to_str().unwrap(),
        "--base",
        "/no/such/model.gguf",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("/no/such/model.gguf"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"));
}

/// An adapter asked for on the command line is never quietly dropped: `ask` fails with the reason
/// instead of answering without it.
#[test]
fn ask_refuses_an_adapter_it_cannot_apply() {
    let dt = Doctalk::new();
    let out = dt.run(&["ask", "怎么装滴滴企业版？", "--adapter", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("\"nope\"") && err.contains("could not be loaded"),
        "{err}"
    );

    let peft = lora("qwen2/peft");
    let out = dt.run(&[
        "ask",
        "怎么装滴滴企业版？",
        "--adapter",
        peft.to_str().unwrap(),
        "--llm-url",
        "http://127.0.0.1:9/v1",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("remote model"), "{err}");
}

/// A `/api/tune` request read until its first training step, then hung up on (as closing the
/// app's dialog or the browser tab does): the step it saw.
fn tune_until_first_step_then_hang_up(addr: &str, body: &str) -> u64 {
    let mut s = TcpStream::connect(addr).unwrap();
    let _ = s.set_read_timeout(Some(crate::harness::child_limit()));
    let head = format!(
        "POST /api/tune HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "the stream ended before a step: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        // The whole event line: a read may end inside it.
        let step_event = seen
            .find(r#""event":"step""#)
            .filter(|&at| seen[at..].contains('\n'));
        if let Some(at) = step_event {
            let rest = &seen[at..];
            let step = rest.split(r#""step":"#).nth(1).unwrap();
            return step
                .split(|c: char| !c.is_ascii_digit())
                .next()
                .unwrap()
                .parse()
                .unwrap();
        }
    }
}

/// "Train on this knowledge base" over the API, as the app's dialog drives it: the plan with a
/// measured estimate, a run the user stops (hanging up saves a checkpoint), the resumed run with
/// base against tuned, and "use this adapter" reloading the model with it. Refusals come with the
/// reason: a knowledge base without FAQ pairs, a remote model, resume and restart at once.
#[test]
fn the_app_trains_on_a_knowledge_base_stops_resumes_and_uses_the_adapter() {
    let dt = Doctalk::new();
    let faq = lora("qwen2/faq.csv");
    let out = dt.run(&["ingest", faq.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let base = tiny_base();
    let server = start(&dt, &["--model", &base]);
    let a = server.addr.as_str();
    // The app trains the local model the settings choose.
    let choose = serde_json::json!({"model": {"kind": "local", "path": base}});
    assert_eq!(
        http(a, "PUT", "/api/settings", None, choose.to_string().as_bytes()).status,
        200
    );

    let long = r#"{"epochs": 3000, "max_steps": 20000}"#;
    let plan = http(a, "POST", "/api/tune/estimate", None, long.as_bytes());
    assert_eq!(plan.status, 200, "{}", plan.body);
    let plan = plan.json();
    assert_eq!(plan["kb"], "default", "{plan}");
    assert_eq!(plan["pairs"], 8, "{plan}");
    assert_eq!(
        (plan["train_pairs"].as_u64(), plan["validation_pairs"].as_u64()),
        (Some(7), Some(1))
    );
    assert_eq!(plan["steps"], 20000, "{plan}");
    assert_eq!(plan["adapter_name"], "default-tuned");
    assert_eq!(plan["replaces"], false);
    assert!(plan["resumable_at"].is_null(), "{plan}");
    assert!(Path::new(plan["base"].as_str().unwrap()).ends_with("model.gguf"));
    let tps = plan["tokens_per_second"].as_f64().unwrap();
    let (training, seconds) = (
        plan["training_seconds"].as_f64().unwrap(),
        plan["seconds"].as_f64().unwrap(),
    );
    assert!(tps > 0.0 && training > 0.0 && seconds >= training, "{plan}");

    // The user stops the run: the checkpoint it saved is offered for resuming.
    let seen = tune_until_first_step_then_hang_up(a, long);
    assert!(seen >= 1);
    let plan = http(a, "POST", "/api/tune/estimate", None, long.as_bytes()).json();
    let saved = plan["resumable_at"]
        .as_u64()
        .unwrap_or_else(|| panic!("no checkpoint to resume: {plan}"));
    assert!(saved >= seen, "saved {saved}, seen {seen}");
    let kept = dt.data.path().join("adapters/default-tuned");
    assert!(!kept.join("adapter_model.safetensors").exists());

    let both = http(
        a,
        "POST",
        "/api/tune",
        None,
        br#"{"resume": true, "restart": true}"#,
    );
    let (name, error) = sse_events(&both.body).pop().unwrap();
    assert_eq!(name, "error", "{}", both.body);
    assert!(error["message"].as_str().unwrap().contains("resume"), "{error}");

    let resume = serde_json::json!({"resume": true, "epochs": 3000, "max_steps": saved + 2});
    let events = sse_events(&http(a, "POST", "/api/tune", None, resume.to_string().as_bytes()).body);
    let (name, report) = events.last().unwrap();
    assert_eq!(name, "done", "{events:?}");
    assert_eq!(report["resumed_at"].as_u64(), Some(saved), "{report}");
    assert_eq!(report["steps"].as_u64(), Some(saved + 2), "{report}");
    assert_eq!(report["stopped"], false);
    assert_eq!(report["adapter_name"], "default-tuned");
    assert_eq!(Path::new(report["adapter"].as_str().unwrap()), kept);
    assert_eq!(report["in_use"], false);
    assert_eq!(report["comparison"]["questions"], 1, "{report}");
    assert!(report["validation_loss_after"].as_f64().is_some(), "{report}");
    let kinds: Vec<&str> = events
        .iter()
        .filter(|(n, _)| n == "progress")
        .filter_map(|(_, d)| d["event"].as_str())
        .collect();
    for kind in ["prepared", "step", "validated", "comparing"] {
        assert!(kinds.contains(&kind), "no {kind} event in {kinds:?}");
    }
    assert!(kept.join("adapter_model.safetensors").is_file());

    // "Use this adapter".
    let patch = serde_json::json!({"model": {"adapter": "default-tuned"}});
    let saved = http(a, "PUT", "/api/settings", None, patch.to_string().as_bytes()).json();
    assert_eq!(saved["model"]["path"], base.as_str(), "{saved}");
    assert_eq!(
        wait_for_model(a, |m| m == "model+default-tuned"),
        "model+default-tuned"
    );
    let plan = http(a, "POST", "/api/tune/estimate", None, b"{}").json();
    assert_eq!(
        (plan["replaces"].as_bool(), plan["steps"].as_u64()),
        (Some(true), Some(21)),
        "{plan}"
    );

    // Nothing to train on, or no local model to train: refused with the reason.
    assert_eq!(
        http(a, "POST", "/api/kbs", None, br#"{"name": "notes"}"#).status,
        200
    );
    let empty = http(a, "POST", "/api/tune/estimate?kb=notes", None, b"{}");
    assert_eq!(empty.status, 400, "{}", empty.body);
    assert!(
        empty.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("\"notes\""),
        "{}",
        empty.body
    );
    let remote = serde_json::json!({"model": {"kind": "remote", "url": "http://127.0.0.1:9/v1", "id": "x"}});
    http(a, "PUT", "/api/settings", None, remote.to_string().as_bytes());
    let refused = http(a, "POST", "/api/tune/estimate", None, b"{}");
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("local"),
        "{}",
        refused.body
    );
}
