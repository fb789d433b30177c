//! The grounded-answer prompt: numbered sources, the rules, the question, in the question's language,
//! cut to fit the model's context window by token count.

use doctalk_models::llm::{ChatMessage, Generator};

use super::{Lang, Source};
use crate::Result;

/// A single source longer than this is cut (at a character boundary) before it goes into the prompt.
const MAX_SOURCE_CHARS: usize = 1500;

const RULES_EN: &str = "You answer questions using only the numbered sources, which are passages from the user's own documents.\n\
Rules:\n\
1. Use only facts stated in the sources; never add outside knowledge.\n\
2. After every sentence that uses a source, cite it as [n] (for example [1] or [2][3]).\n\
3. If the sources do not contain the answer, reply exactly: \"I can't find this in your documents.\"\n\
4. Answer in English, briefly and precisely.";

const RULES_ZH: &str = "你只根据编号资料回答问题，这些资料摘自用户自己的文档。\n\
规则：\n\
1. 只使用资料中明确写出的事实，不要补充资料以外的知识。\n\
2. 每句用到资料的话，在句末用 [n] 标注来源（例如 [1] 或 [2][3]）。\n\
3. 如果资料中没有答案，只回答：“您的文档中没有找到相关内容。”\n\
4. 用中文简洁准确地回答。";

/// The prompt's messages and how many of `sources` they hold (the first ones, in rank order).
pub(crate) struct Prompt {
    pub messages: Vec<ChatMessage>,
    pub sources_used: usize,
}

/// Renders the prompt with as many sources as fit: `prompt tokens + max_answer_tokens` must stay within
/// the context window, and the prompt within `prompt_budget` (what the model prefills fast enough).
/// Sources are dropped from the end (the least relevant) until it fits; the best one stays as long
/// as the context window holds it, whatever the budget.
pub(crate) fn build(
    generator: &dyn Generator,
    question: &str,
    lang: Lang,
    sources: &[Source],
    max_answer_tokens: usize,
    prompt_budget: Option<usize>,
) -> Result<Prompt> {
    let window = generator.context_window().saturating_sub(max_answer_tokens);
    let mut n = sources.len();
    loop {
        let messages = messages(question, lang, &sources[..n]);
        let text = generator.render_chat(&messages)?;
        let tokens = generator.count_tokens(&text)?;
        let budget = match prompt_budget {
            Some(b) if n > 1 => b.min(window),
            _ => window,
        };
        if tokens <= budget || n == 0 {
            return Ok(Prompt {
                messages,
                sources_used: n,
            });
        }
        n -= 1;
    }
}

fn messages(question: &str, lang: Lang, sources: &[Source]) -> Vec<ChatMessage> {
    let mut user = String::new();
    user.push_str(match lang {
        Lang::Zh => "资料：\n",
        Lang::En => "Sources:\n",
    });
    for s in sources {
        user.push_str(&format!(
            "[{}] {}\n{}\n\n",
            s.n,
            s.label(lang),
            clip(&s.text, MAX_SOURCE_CHARS)
        ));
    }
    user.push_str(match lang {
        Lang::Zh => "问题：",
        Lang::En => "Question: ",
    });
    user.push_str(question);
    vec![
        ChatMessage::system(match lang {
            Lang::Zh => RULES_ZH,
            Lang::En => RULES_EN,
        }),
        ChatMessage::user(user),
    ]
}

fn clip(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}
