//! Follow-up questions ("那住宿呢？", "and for managers?") rewritten into a standalone search query
//! with the conversation: by the LLM when there is one, else by a cheap rule.

use std::ops::ControlFlow;

use doctalk_models::llm::{ChatMessage, GenerationParams, Generator};

use super::{Lang, Turn};

/// Turns of history the rewriter sees.
const HISTORY_TURNS: usize = 3;

/// Without a model: a short or referring follow-up borrows the previous question's words, which is
/// what retrieval needs ("那住宿呢？" after "出差的餐补标准是多少？" searches both).
pub(crate) fn cheap(question: &str, history: &[Turn]) -> String {
    let Some(last) = history.last() else {
        return question.to_string();
    };
    if is_follow_up(question) {
        format!("{} {}", last.query, question)
    } else {
        question.to_string()
    }
}

/// With a model: asks it for a standalone question; falls back to [`cheap`] when the output is
/// unusable (empty, a refusal-length essay, or an error).
pub(crate) fn with_llm(generator: &dyn Generator, question: &str, history: &[Turn], lang: Lang) -> String {
    if history.is_empty() {
        return question.to_string();
    }
    let instruction = match lang {
        Lang::Zh => "把用户最后的问题改写成一个不依赖上文、可以单独理解的完整问题。只输出改写后的问题。",
        Lang::En => "Rewrite the user's last question as a complete question that can be understood without the conversation. Output only the rewritten question.",
    };
    let mut messages = vec![ChatMessage::system(instruction)];
    for turn in history.iter().rev().take(HISTORY_TURNS).rev() {
        messages.push(ChatMessage::user(turn.question.clone()));
        messages.push(ChatMessage::assistant(
            turn.answer.chars().take(300).collect::<String>(),
        ));
    }
    messages.push(ChatMessage::user(question.to_string()));
    let rewritten = generator
        .chat(&messages, &GenerationParams::greedy(64), &mut |_| {
            ControlFlow::Continue(())
        })
        .map(|out| {
            out.text
                .trim()
                .trim_matches(['"', '“', '”'])
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        });
    match rewritten {
        Ok(q) if !q.is_empty() && q.chars().count() <= 3 * question.chars().count() + 60 => q,
        _ => cheap(question, history),
    }
}

fn is_follow_up(question: &str) -> bool {
    const REFERRING_ZH: &[&str] = &[
        "它", "这个", "那个", "那", "这", "呢", "他们", "她", "他", "其", "该",
    ];
    const REFERRING_EN: &[&str] = &[
        "it", "its", "that", "this", "they", "them", "those", "these", "there", "he", "she",
    ];
    let q = question.trim();
    let words: Vec<String> = q
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    q.chars().count() <= 8
        || REFERRING_ZH.iter().any(|w| q.contains(w))
        || words.iter().any(|w| REFERRING_EN.contains(&w.as_str()))
        || q.to_lowercase().starts_with("and ")
        || q.to_lowercase().starts_with("what about")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(q: &str) -> Turn {
        Turn {
            question: q.into(),
            query: q.into(),
            answer: String::new(),
            sources: Vec::new(),
            grounded: true,
            mode: Some(crate::AnswerMode::Extractive),
            at: 0,
        }
    }

    #[test]
    fn a_referring_follow_up_borrows_the_previous_query() {
        let h = [turn("出差的餐补标准是多少？")];
        assert_eq!(cheap("那住宿呢？", &h), "出差的餐补标准是多少？ 那住宿呢？");
        let h = [turn("How many days of annual leave do I get?")];
        assert_eq!(
            cheap("And can I carry them over?", &h),
            "How many days of annual leave do I get? And can I carry them over?"
        );
    }

    #[test]
    fn a_self_contained_question_is_left_alone() {
        let h = [turn("出差的餐补标准是多少？")];
        assert_eq!(cheap("如何下载滴滴企业版APP", &h), "如何下载滴滴企业版APP");
        assert_eq!(
            cheap("How do I reset my VPN password?", &[]),
            "How do I reset my VPN password?"
        );
    }
}
