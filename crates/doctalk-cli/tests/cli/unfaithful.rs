//! What the user sees when the language model says nothing or refuses although a passage answers.
//! The model here is a scripted OpenAI-compatible endpoint on loopback that always streams the same
//! reply: a remote model is a true boundary, and these replies are the ones the default model gave
//! on the labelled set (`doctalk bench answers`), which a real model does not give on demand.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;

use crate::harness::indexed_sample;

/// Serves `reply` as the streamed content of every chat completion; returns the base URL.
pub(crate) fn scripted_endpoint(reply: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; length];
            let _ = reader.read_exact(&mut body);
            let content = serde_json::to_string(reply).unwrap();
            let events = format!(
                "data: {{\"choices\":[{{\"delta\":{{\"content\":{content}}},\"finish_reason\":null}}]}}\n\n\
                 data: {{\"choices\":[{{\"delta\":{{}},\"finish_reason\":\"stop\"}}],\"usage\":{{\"prompt_tokens\":100,\"completion_tokens\":9}}}}\n\n\
                 data: [DONE]\n\n"
            );
            let mut stream = reader.into_inner();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n{events}"
            );
        }
    });
    url
}

fn ask(question: &str, url: &str) -> serde_json::Value {
    indexed_sample().json(&["ask", question, "--json", "--llm-url", url, "--model", "scripted"])
}

#[test]
fn a_refusal_over_a_passage_naming_the_question_shows_the_passage() {
    let url = scripted_endpoint("您的文档中没有找到相关内容。");
    let a = ask("境外出差每天补贴多少？", &url);
    assert_eq!(a["mode"], "extractive", "{a}");
    assert_eq!(a["grounded"], true, "{a}");
    let reason = a["fallback_reason"].as_str().unwrap();
    assert!(reason.contains("do not hold the answer"), "{a}");
    let text = a["answer"].as_str().unwrap();
    assert!(text.contains("60美元") && !text.contains("没有找到"), "{a}");
    assert!(a["model_text"].as_str().unwrap().contains("没有找到"), "{a}");
}

#[test]
fn a_refusal_is_believed_when_no_passage_names_the_question() {
    // Retrieval scores a passage above the threshold, but it shares few of the question's key
    // terms: the model's "not found" stands.
    let url = scripted_endpoint("您的文档中没有找到相关内容。");
    let a = ask("年终奖一般发几个月工资？", &url);
    assert_eq!(a["answer"], "您的文档中没有找到相关内容。", "{a}");
    assert_eq!(a["mode"], "llm", "the model was asked: {a}");
    assert_eq!(a["grounded"], false, "{a}");
}

#[test]
fn an_answer_that_is_only_a_citation_is_replaced_by_the_passage() {
    let url = scripted_endpoint("[1]");
    let a = ask("境外出差每天补贴多少？", &url);
    assert_eq!(a["mode"], "extractive", "{a}");
    assert!(
        a["fallback_reason"]
            .as_str()
            .unwrap()
            .contains("only cited passages"),
        "{a}"
    );
    assert!(a["answer"].as_str().unwrap().contains("60美元"), "{a}");
    // Without a citation, a sentence that only restates the question is no pointer to a passage.
    let url = scripted_endpoint("根据资料，境外出差每天补贴多少。");
    let a = ask("境外出差每天补贴多少？", &url);
    assert!(
        a["fallback_reason"]
            .as_str()
            .unwrap_or_default()
            .contains("stated nothing")
            || a["answer"].as_str().unwrap().contains("没有找到"),
        "{a}"
    );
}

/// The model refuses, and fewer than 60% of the question's key terms are in any passage, but one
/// passage matches the question's words strongly (BM25) and its meaning (at the e5 threshold): it
/// is shown with the reason. A question the documents do not answer stays "not found".
#[test]
fn a_refusal_over_a_strongly_matching_passage_shows_the_passage() {
    let url = scripted_endpoint("您的文档中没有找到相关内容。");
    let a = ask(
        "请问我们这些同事如果哪天上班打卡晚于10:30，或者未打卡且未提交请假、补卡申请，会被怎样算？",
        &url,
    );
    let evidence = &a["evidence"];
    assert!(
        evidence["key_terms"].as_f64().unwrap() < 0.6,
        "the question must not pass the key-term rule: {evidence}"
    );
    assert_eq!(a["mode"], "extractive", "{a}");
    assert!(a["answer"].as_str().unwrap().contains("旷工半天"), "{a}");
    assert!(
        a["fallback_reason"].as_str().unwrap().contains("words strongly"),
        "{a}"
    );

    let a = ask("公司有健身房吗？", &url);
    assert!(a["answer"].as_str().unwrap().contains("没有找到"), "{a}");
}
