//! Chat templates rendered by minijinja against reference strings rendered by Python's jinja2 (the
//! engine `transformers` uses), for every family we support. Regenerate the fixture with
//! models/gen/llm_templates.py.

use doctalk_models::llm::{ChatMessage, ChatTemplate, Role};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    name: String,
    template: String,
    bos_token: String,
    eos_token: String,
    messages: Vec<Message>,
    expected: String,
}

#[derive(Deserialize)]
struct Message {
    role: String,
    content: String,
}

fn cases() -> Vec<Case> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/llm/templates.json");
    let text = std::fs::read_to_string(path).expect("templates.json fixture");
    serde_json::from_str(&text).expect("templates.json parses")
}

fn to_messages(messages: &[Message]) -> Vec<ChatMessage> {
    messages
        .iter()
        .map(|m| ChatMessage {
            role: match m.role.as_str() {
                "system" => Role::System,
                "user" => Role::User,
                "assistant" => Role::Assistant,
                other => panic!("unexpected role {other}"),
            },
            content: m.content.clone(),
        })
        .collect()
}

#[test]
fn every_template_renders_exactly_like_jinja2() {
    let cases = cases();
    assert!(cases.len() >= 10, "fixture lost cases: {}", cases.len());
    for families in [
        "qwen2.5",
        "smollm2",
        "builtin:chatglm3",
        "builtin:glm4",
        "builtin:gemma3",
    ] {
        assert!(
            cases.iter().any(|c| c.name.starts_with(families)),
            "no case for {families}"
        );
    }
    let mut failures = Vec::new();
    for case in &cases {
        let template = ChatTemplate::new(&case.template, &case.bos_token, &case.eos_token)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let got = template
            .render(&to_messages(&case.messages))
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        if got != case.expected {
            failures.push(format!(
                "{}:\n  want {:?}\n  got  {:?}",
                case.name, case.expected, got
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
