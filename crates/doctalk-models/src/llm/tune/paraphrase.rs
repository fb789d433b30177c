//! Other ways of asking: the model itself rewrites each FAQ question, and each rewrite becomes a
//! training pair with that question's answer. An FAQ export often has one phrasing per question,
//! while people ask in many; the rewrites teach the adapter the answer, not the wording. They are
//! the model's words, not the user's, so they are trained on and never held out (see
//! [`super::prepare`]).

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use serde::Serialize;

use super::super::types::{ChatMessage, GenerationParams};
use super::super::{Generator, LocalGenerator};
use super::QaPair;
use crate::error::Result;

/// One rewrite the model made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Paraphrase {
    /// The question it rewrites (a trained phrasing of its entry).
    pub of: String,
    pub text: String,
}

/// Up to `per_question` rewrites of each of `sources` (one phrasing of each trained entry), greedy
/// (the same on every run, so a resumed run trains on the same pairs). A rewrite equal to one of
/// `known` (every phrasing the user gave, held-out ones included) or to an earlier rewrite adds
/// nothing. `progress(done, total)` after each source; `Break` stops it (`Ok(None)`).
///
/// The model is shown one worked example and writes a numbered list, one line per call: asked for
/// several at once, the default 0.5B model wrote one and stopped, or answered the question
/// instead; continuing its own list ("1. …\n2.") it writes another way of asking each time.
pub(crate) fn paraphrase<'a>(
    chat: &LocalGenerator,
    sources: &[&QaPair],
    known: impl Iterator<Item = &'a str>,
    per_question: usize,
    progress: &mut dyn FnMut(usize, usize) -> ControlFlow<()>,
) -> Result<Option<Vec<(Paraphrase, QaPair)>>> {
    let mut known: BTreeSet<String> = known.map(normalise).collect();
    let mut out = Vec::new();
    for (done, pair) in sources.iter().enumerate() {
        let question = pair.question.trim();
        let asked = chat.render_chat(&[ChatMessage::user(instruction(question))])?;
        let params = GenerationParams {
            stop: vec!["\n".into()],
            ..GenerationParams::greedy(chat.encode(question)?.len() * 2 + 8)
        };
        let mut list = String::new();
        for k in 1..=per_question {
            let prompt = format!("{asked}{list}{k}.");
            let line = chat
                .generate(&prompt, &params, &mut |_| ControlFlow::Continue(()))?
                .text;
            let line = line.lines().next().unwrap_or("").trim().to_string();
            if line.is_empty() {
                break;
            }
            list.push_str(&format!("{k}. {line}\n"));
            if let Some(rewrite) = usable(&line, question, &pair.answer) {
                if known.insert(normalise(&rewrite)) {
                    out.push((
                        Paraphrase {
                            of: question.to_string(),
                            text: rewrite.clone(),
                        },
                        QaPair {
                            question: rewrite,
                            answer: pair.answer.clone(),
                            entry: pair.entry,
                        },
                    ));
                }
            }
        }
        if progress(done + 1, sources.len()).is_break() {
            return Ok(None);
        }
    }
    Ok(Some(out))
}

/// The request with one worked example, in the question's language.
fn instruction(question: &str) -> String {
    if question.chars().any(is_han) {
        format!(
            "把问题换几种说法，意思完全不变，仍然是问题，每行一个。\n\n问题：怎么申请年假\n换种说法：\n1. 年假要怎么申请？\n2. 申请年假的流程是什么？\n3. 我想请年假，该如何操作？\n\n问题：{question}\n换种说法："
        )
    } else {
        format!(
            "Say the question in other words, with exactly the same meaning, still as a question, one per line.\n\nQuestion: How do I apply for annual leave?\nOther ways to ask:\n1. How can I request annual leave?\n2. What is the process for applying for annual leave?\n3. I want to take annual leave: what do I do?\n\nQuestion: {question}\nOther ways to ask:"
        )
    }
}

/// A line of the model's reply as a question, or `None` when it is not one: numbering, bullets,
/// labels and quotes taken off; the question itself, a statement (ending in a full stop), a line
/// that holds the answer, or one far longer than the question (an answer or a ramble) refused.
fn usable(line: &str, question: &str, answer: &str) -> Option<String> {
    let line = strip_decoration(line);
    let norm = normalise(&line);
    let answer_norm = normalise(answer);
    let statement = line.ends_with('。') || (line.ends_with('.') && !line.ends_with("..."));
    let too_long = line.chars().count() > question.chars().count() * 3 + 10;
    let holds_answer = answer_norm.chars().count() >= 4 && norm.contains(&answer_norm);
    (!norm.is_empty() && norm != normalise(question) && !statement && !too_long && !holds_answer)
        .then_some(line)
}

/// The usable lines of a reply, at most `limit`, without repeats (what [`usable`] keeps).
#[cfg(test)]
fn rewrites(reply: &str, question: &str, answer: &str, limit: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in reply.lines() {
        if let Some(line) = usable(line, question, answer) {
            if !out.iter().any(|o| normalise(o) == normalise(&line)) {
                out.push(line);
            }
        }
        if out.len() == limit {
            break;
        }
    }
    out
}

/// A line without its list marker ("1.", "2、", "(3)", "-", "•"), label ("问题：", "Question:")
/// or surrounding quotes.
fn strip_decoration(line: &str) -> String {
    let mut s = line.trim();
    loop {
        let before = s;
        s = s.trim_start_matches(['-', '*', '•', '·', '>', ' ', '\t']);
        let digits = s.chars().take_while(|c| c.is_ascii_digit()).count();
        if digits > 0 && digits <= 2 {
            let rest = &s[digits..];
            if let Some(r) = rest
                .strip_prefix('.')
                .or_else(|| rest.strip_prefix('、'))
                .or_else(|| rest.strip_prefix(')'))
                .or_else(|| rest.strip_prefix('）'))
                .or_else(|| rest.strip_prefix('．'))
            {
                s = r;
            }
        }
        if let Some(r) = s.strip_prefix('(').or_else(|| s.strip_prefix('（')) {
            let digits = r.chars().take_while(|c| c.is_ascii_digit()).count();
            if digits > 0 {
                if let Some(r) = r[digits..]
                    .strip_prefix(')')
                    .or_else(|| r[digits..].strip_prefix('）'))
                {
                    s = r;
                }
            }
        }
        for label in ["问题：", "问题:", "改写：", "改写:", "Question:", "Rewrite:"] {
            if let Some(r) = s.strip_prefix(label) {
                s = r;
            }
        }
        s = s.trim();
        if s == before {
            break;
        }
    }
    s.trim_matches(['"', '“', '”', '「', '」', '\''])
        .trim()
        .to_string()
}

/// For comparing questions: letters, digits and Han characters only, lower-cased.
fn normalise(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbering_labels_and_quotes_come_off_and_useless_lines_are_left_out() {
        let reply = "1. 怎么安装滴滴APP？\n2、滴滴APP在哪里下载\n(3) “如何下载滴滴APP”\n- 问题：去哪下载滴滴出行\n\n4. 在应用商店搜索“滴滴出行”下载即可\n5. 怎么安装滴滴APP?\n";
        let got = rewrites(reply, "如何下载滴滴APP", "在应用商店搜索“滴滴出行”下载", 5);
        // The third is the question itself, the fifth line holds the answer, the sixth repeats the first.
        assert_eq!(
            got,
            ["怎么安装滴滴APP？", "滴滴APP在哪里下载", "去哪下载滴滴出行"]
        );
        assert_eq!(rewrites(reply, "如何下载滴滴APP", "在应用商店搜索", 2).len(), 2);
    }

    #[test]
    fn english_lines_and_a_ramble() {
        let reply = "Question: How do I log in to the admin console?\n* Where is the admin login page?\nThe admin console is at admin.example.com and you sign in with your company account and then choose the tenant you manage.";
        let got = rewrites(
            reply,
            "How to log in to the admin backend",
            "admin.example.com",
            3,
        );
        assert_eq!(
            got,
            [
                "How do I log in to the admin console?",
                "Where is the admin login page?"
            ]
        );
    }

    #[test]
    fn the_instruction_follows_the_question_s_language() {
        assert!(instruction("请问商旅的出差制度").ends_with("问题：请问商旅的出差制度\n换种说法："));
        assert!(instruction("What is the VPN timeout?")
            .ends_with("Question: What is the VPN timeout?\nOther ways to ask:"));
    }

    #[test]
    fn statements_are_not_questions() {
        let reply = "商旅的出差制度是根据国家或地区的规定制定的。\n商旅的出差制度是什么样的？";
        assert_eq!(
            rewrites(reply, "请问商旅的出差制度", "见《差旅管理办法》第三章", 3),
            ["商旅的出差制度是什么样的？"]
        );
        assert!(usable(
            "You can reset it on the portal.",
            "How do I reset my VPN password?",
            "x"
        )
        .is_none());
    }
}
