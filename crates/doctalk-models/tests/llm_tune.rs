//! Fine-tuning a LoRA adapter on the tiny random Qwen2 of models/gen/lora_tiny.py: the loss falls,
//! the saved PEFT adapter loads for answers and makes the model say what it was taught, a stopped
//! run resumes to exactly the adapter an uninterrupted run gives, and the adapter DocTalk trained
//! gives in transformers + PEFT the logits it gives here (fixture `lora/qwen2/tuned`).

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use doctalk_models::llm::tune::{tune, QaPair, TuneConfig, TuneEvent};
use doctalk_models::llm::{load_adapted, ChatMessage, GenerationParams, Generator, Kernels};
use doctalk_models::DeviceChoice;

fn lora(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lora")
        .join(rel)
}

fn base() -> PathBuf {
    lora("qwen2/base/model.gguf")
}

/// Questions and answers in the tiny model's word vocabulary.
fn pairs() -> Vec<QaPair> {
    (0..8)
        .map(|i| QaPair {
            question: format!("w{} w{} w{}", 10 + i, 20 + i, 30 + i),
            answer: format!("w{} w{} w{}", 40 + i, 50 + i, 60 + i),
            entry: i,
        })
        .collect()
}

/// Settings that teach the tiny model eight answers in a second.
fn quick() -> TuneConfig {
    TuneConfig {
        rank: 4,
        alpha: 8.0,
        learning_rate: 1e-2,
        epochs: 30,
        checkpoint_every: 10,
        ..TuneConfig::default()
    }
}

fn run(
    out: &Path,
    config: &TuneConfig,
    resume: bool,
    stop_at: Option<usize>,
) -> doctalk_models::llm::tune::TuneReport {
    let mut events = Vec::new();
    let report = tune(
        &base(),
        DeviceChoice::Cpu,
        &pairs(),
        out,
        config,
        resume,
        &mut |e| {
            events.push(e.clone());
            match (e, stop_at) {
                (TuneEvent::Step { step, .. }, Some(at)) if *step == at => ControlFlow::Break(()),
                _ => ControlFlow::Continue(()),
            }
        },
    )
    .unwrap_or_else(|e| panic!("tune: {e}"));
    assert!(
        matches!(events.first(), Some(TuneEvent::Prepared { .. })),
        "{events:?}"
    );
    report
}

fn adapter_tensors(dir: &Path) -> Vec<(String, Vec<f32>)> {
    let mut tensors: Vec<_> =
        candle_core::safetensors::load(dir.join("adapter_model.safetensors"), &candle_core::Device::Cpu)
            .unwrap()
            .into_iter()
            .map(|(k, t)| (k, t.flatten_all().unwrap().to_vec1::<f32>().unwrap()))
            .collect();
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    tensors
}

fn max_diff(a: &[(String, Vec<f32>)], b: &[(String, Vec<f32>)]) -> f32 {
    assert_eq!(
        a.iter().map(|t| &t.0).collect::<Vec<_>>(),
        b.iter().map(|t| &t.0).collect::<Vec<_>>()
    );
    a.iter()
        .zip(b)
        .flat_map(|(x, y)| x.1.iter().zip(&y.1).map(|(p, q)| (p - q).abs()))
        .fold(0.0, f32::max)
}

/// Qwen2, and Llama, whose q/k rows llama.cpp reorders: the adapter is saved in Hugging Face's
/// order and put back in the file's when loaded, so a wrong order on either side would unteach it.
#[test]
fn training_teaches_the_answers_and_the_adapter_loads_for_answering() {
    for arch in ["qwen2", "llama"] {
        teaches(&lora(&format!("{arch}/base/model.gguf")));
    }
}

fn teaches(base: &Path) {
    let out = tempfile::tempdir().unwrap();
    let mut events = Vec::new();
    let report = tune(
        base,
        DeviceChoice::Cpu,
        &pairs(),
        out.path(),
        &quick(),
        false,
        &mut |e| {
            events.push(e.clone());
            ControlFlow::Continue(())
        },
    )
    .unwrap();
    assert!(
        matches!(events.first(), Some(TuneEvent::Prepared { .. })),
        "{events:?}"
    );
    assert_eq!((report.train_pairs, report.validation_pairs), (7, 1));
    assert_eq!(report.steps, 7 * 30);
    assert!(!report.stopped);
    let train_loss = report.train_loss.unwrap();
    assert!(train_loss < 0.1, "training loss {train_loss}");
    assert!(report.validation_loss_before.unwrap() > 1.0, "{report:?}");
    for file in [
        "adapter_config.json",
        "adapter_model.safetensors",
        "training.json",
    ] {
        assert!(out.path().join(file).is_file(), "{file}");
    }
    assert!(
        !out.path().join("checkpoint").exists(),
        "the finished run's checkpoint is removed"
    );
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("adapter_config.json")).unwrap())
            .unwrap();
    assert_eq!(config["peft_type"], "LORA");
    assert_eq!(config["r"], 4);

    // Greedy answers of the tuned model are the taught ones (the base says something else).
    let tuned = load_adapted(base, DeviceChoice::Cpu, Kernels::Integer, Some(out.path())).unwrap();
    let plain = load_adapted(base, DeviceChoice::Cpu, Kernels::Integer, None).unwrap();
    let mut taught = 0;
    for pair in pairs() {
        let prompt = tuned
            .render_chat(&[ChatMessage::user(pair.question.as_str())])
            .unwrap();
        let answer = |m: &doctalk_models::llm::LocalGenerator| {
            m.generate(&prompt, &GenerationParams::greedy(6), &mut |_| {
                ControlFlow::Continue(())
            })
            .unwrap()
            .text
        };
        let said = answer(&tuned);
        assert_ne!(
            answer(&plain).trim(),
            pair.answer,
            "the base already knew {pair:?}"
        );
        if said.trim() == pair.answer {
            taught += 1;
        }
    }
    // Seven were trained on; the held-out one is not expected.
    assert!(taught >= 7, "{}: {taught} of 8 answers taught", base.display());
}

#[test]
fn a_stopped_run_resumes_to_the_same_adapter() {
    let config = TuneConfig { epochs: 4, ..quick() };
    let straight = tempfile::tempdir().unwrap();
    run(straight.path(), &config, false, None);

    let stopped = tempfile::tempdir().unwrap();
    let first = run(stopped.path(), &config, false, Some(13));
    assert!(first.stopped);
    assert_eq!(first.steps, 13);
    assert!(stopped.path().join("checkpoint/state.json").is_file());
    assert!(!stopped.path().join("adapter_model.safetensors").exists());

    // Not resuming over a checkpoint is refused: nothing is overwritten.
    let err = tune(
        &base(),
        DeviceChoice::Cpu,
        &pairs(),
        stopped.path(),
        &config,
        false,
        &mut |_| ControlFlow::Continue(()),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("checkpoint"), "{err}");
    // Resuming with other settings is refused too.
    let other = TuneConfig {
        learning_rate: 5e-3,
        ..config.clone()
    };
    let err = tune(
        &base(),
        DeviceChoice::Cpu,
        &pairs(),
        stopped.path(),
        &other,
        true,
        &mut |_| ControlFlow::Continue(()),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("another run"), "{err}");

    let resumed = run(stopped.path(), &config, true, None);
    assert_eq!(resumed.resumed_at, 13);
    assert_eq!(resumed.steps, 28);
    let diff = max_diff(
        &adapter_tensors(straight.path()),
        &adapter_tensors(stopped.path()),
    );
    assert!(diff < 1e-6, "resumed adapter differs by {diff}");
}

/// FAQ entries asked two ways: validation holds out one way of asking entries whose other way is
/// trained on, and the comparison answers those with the base and the tuned model.
#[test]
fn held_out_paraphrases_are_compared_between_base_and_tuned() {
    let pairs: Vec<QaPair> = (0..8)
        .flat_map(|i| {
            let answer = format!("w{} w{} w{}", 40 + i, 50 + i, 60 + i);
            [
                format!("w{} w{} w{}", 10 + i, 20 + i, 30 + i),
                format!("w{} w{} w{} w{}", 10 + i, 20 + i, 30 + i, 70 + i),
            ]
            .map(|question| QaPair {
                question,
                answer: answer.clone(),
                entry: i,
            })
        })
        .collect();
    let config = TuneConfig {
        validation_fraction: 0.25,
        ..quick()
    };
    let out = tempfile::tempdir().unwrap();
    let mut compared = 0;
    let report = tune(
        &base(),
        DeviceChoice::Cpu,
        &pairs,
        out.path(),
        &config,
        false,
        &mut |e| {
            if let TuneEvent::Comparing { .. } = e {
                compared += 1;
            }
            ControlFlow::Continue(())
        },
    )
    .unwrap();
    let c = report.comparison.expect("a comparison");
    assert_eq!(c.questions, 4);
    assert_eq!(compared, 8, "one progress event per answer, base and tuned");
    let held: Vec<&str> = c.answers.iter().map(|a| a.question.as_str()).collect();
    for a in &c.answers {
        // Each held-out question's entry is still trained on through its other phrasing.
        let entry = pairs.iter().find(|p| p.question == a.question).unwrap().entry;
        assert!(pairs
            .iter()
            .any(|p| p.entry == entry && !held.contains(&p.question.as_str())));
    }
    assert_eq!(c.base_exact, 0, "{c:?}");
    assert!(c.tuned_exact >= 3, "{c:?}");
    assert!(c.tuned_overlap > c.base_overlap, "{c:?}");
}

/// `doctalk tune` made the fixture `lora/qwen2/tuned` (whose PEFT logits `llm_adapters` checks)
/// from `qwen2/faq.csv` with these settings: training again gives the same adapter.
#[test]
fn training_is_reproducible_from_its_seed() {
    let csv = std::fs::read_to_string(lora("qwen2/faq.csv")).unwrap();
    let pairs: Vec<QaPair> = csv
        .lines()
        .skip(1)
        .enumerate()
        .map(|(row, l)| {
            let (q, a) = l.split_once(',').unwrap();
            QaPair {
                question: q.into(),
                answer: a.into(),
                entry: row,
            }
        })
        .collect();
    let config = TuneConfig { epochs: 5, ..quick() };
    let out = tempfile::tempdir().unwrap();
    tune(
        &base(),
        DeviceChoice::Cpu,
        &pairs,
        out.path(),
        &config,
        false,
        &mut |_| ControlFlow::Continue(()),
    )
    .unwrap();
    let diff = max_diff(
        &adapter_tensors(out.path()),
        &adapter_tensors(&lora("qwen2/tuned")),
    );
    // Other CPUs round f32 sums differently; 35 steps do not amplify that past this.
    assert!(diff < 1e-3, "the adapter differs from the fixture by {diff}");
}

#[test]
fn too_few_pairs_or_a_model_it_cannot_train_are_clear_errors() {
    let out = tempfile::tempdir().unwrap();
    let one = &pairs()[..1];
    let err = tune(
        &base(),
        DeviceChoice::Cpu,
        one,
        out.path(),
        &quick(),
        false,
        &mut |_| ControlFlow::Continue(()),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("at least 2"), "{err}");
    let chatglm =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/llm/chatglm3-gguf/model.gguf");
    let err = tune(
        &chatglm,
        DeviceChoice::Cpu,
        &pairs(),
        out.path(),
        &quick(),
        false,
        &mut |_| ControlFlow::Continue(()),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("qwen2 and llama"), "{err}");
}

/// The default chat model (Qwen2.5-0.5B, fetched by scripts/fetch-llm.sh): rewriting questions
/// needs a model that writes Chinese, which the tiny random ones do not.
fn default_model() -> PathBuf {
    let root = std::env::var_os("DOCTALK_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.models"));
    let path = root.join("qwen2.5-coder-0.5b-instruct-q4_k_m/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf");
    assert!(
        path.is_file(),
        "{} is missing: run scripts/fetch-llm.sh (or set DOCTALK_MODELS_DIR)",
        path.display()
    );
    path
}

fn helpdesk_pairs() -> Vec<QaPair> {
    [
        ("如何下载滴滴APP？", "在应用商店搜索“滴滴出行”下载安装。"),
        (
            "如何登陆管理员后台？",
            "浏览器打开 admin.xinghe-tech.cn，用企业账号登录。",
        ),
        ("忘记密码怎么办？", "在登录页点“忘记密码”，用手机验证码重设。"),
        ("报销款什么时候到账？", "审批通过后5个工作日内打到工资卡。"),
    ]
    .into_iter()
    .enumerate()
    .map(|(entry, (q, a))| QaPair {
        question: q.into(),
        answer: a.into(),
        entry,
    })
    .collect()
}

/// With `paraphrases`, the model writes other ways of asking each trained question first: they
/// are questions (not the original, not answers), trained on with their entry's answer, never
/// held out and never made from the held-out phrasing, listed in the report and in
/// training.json; a stop while they are written saves nothing.
#[test]
fn the_model_s_rewrites_of_the_questions_are_trained_on_and_never_held_out() {
    let model = default_model();
    let mut pairs = helpdesk_pairs();
    // A second phrasing of the first entry: validation holds out one of its two phrasings.
    pairs.push(QaPair {
        question: "滴滴APP在哪里下载？".into(),
        answer: pairs[0].answer.clone(),
        entry: 0,
    });
    let config = TuneConfig {
        paraphrases: 2,
        max_steps: Some(2),
        ..TuneConfig::default()
    };
    let out = tempfile::tempdir().unwrap();
    let mut events = Vec::new();
    let report = tune(
        &model,
        DeviceChoice::Cpu,
        &pairs,
        out.path(),
        &config,
        false,
        &mut |e| {
            events.push(e.clone());
            ControlFlow::Continue(())
        },
    )
    .unwrap();
    let written: Vec<(usize, usize)> = events
        .iter()
        .filter_map(|e| match e {
            TuneEvent::Paraphrasing { done, total } => Some((*done, *total)),
            _ => None,
        })
        .collect();
    // One source per trained entry: all four (the first keeps a phrasing for training).
    assert_eq!(written, [(1, 4), (2, 4), (3, 4), (4, 4)]);
    assert!(!report.paraphrases.is_empty(), "{report:?}");
    let originals: Vec<&str> = pairs.iter().map(|p| p.question.as_str()).collect();
    for p in &report.paraphrases {
        assert!(originals.contains(&p.of.as_str()), "{p:?}");
        assert!(!originals.contains(&p.text.as_str()), "{p:?}");
        assert!(
            !p.text.ends_with('。') && p.text.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c)),
            "{p:?}"
        );
    }
    // The held-out phrasing is one of the first entry's two, and no rewrite is made from it.
    assert_eq!(report.validation_pairs, 1);
    let held_out = &report.comparison.as_ref().expect("the comparison").answers[0].question;
    assert!(
        held_out == &pairs[0].question || held_out == &pairs[4].question,
        "{held_out}"
    );
    assert!(report.paraphrases.iter().all(|p| &p.of != held_out), "{report:?}");
    assert_eq!(report.train_pairs, 4 + report.paraphrases.len(), "{report:?}");
    assert!(report.paraphrases.len() <= 4 * 2);
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("training.json")).unwrap()).unwrap();
    assert_eq!(
        saved["paraphrases"].as_array().unwrap().len(),
        report.paraphrases.len()
    );

    // Stopped while the rewrites are written: nothing trained, no checkpoint, no adapter.
    let stopped_dir = tempfile::tempdir().unwrap();
    let stopped = tune(
        &model,
        DeviceChoice::Cpu,
        &pairs,
        stopped_dir.path(),
        &config,
        false,
        &mut |e| {
            if matches!(e, TuneEvent::Paraphrasing { done: 1, .. }) {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        },
    )
    .unwrap();
    assert!(stopped.stopped && stopped.steps == 0, "{stopped:?}");
    assert!(std::fs::read_dir(stopped_dir.path()).unwrap().next().is_none());
}
