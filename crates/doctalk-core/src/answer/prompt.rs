//! The grounded-answer prompt: numbered sources, the rules, the question, in the question's language,
//! cut to fit the model's context window by token count.

use std::collections::HashSet;

use doctalk_models::llm::{ChatMessage, Generator};

use super::{Lang, Source};
use crate::Result;

/// Characters offered per source, tried in turn until the prompt fits its budget: a small model on
/// the CPU gets every retrieved source, each cut to the sentences that best match the question,
/// rather than fewer whole ones (the answer is often in the fifth source). Below the last, sources
/// are dropped from the least relevant.
const SOURCE_CHARS: [usize; 6] = [1500, 600, 400, 300, 220, 160];

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
    let budget = prompt_budget.map_or(window, |b| b.min(window));
    let fits = |n: usize, chars: usize| -> Result<Option<Vec<ChatMessage>>> {
        let messages = messages(question, lang, &sources[..n], chars);
        let tokens = generator.count_tokens(&generator.render_chat(&messages)?)?;
        Ok((tokens <= budget).then_some(messages))
    };
    for chars in SOURCE_CHARS {
        if let Some(messages) = fits(sources.len(), chars)? {
            return Ok(Prompt {
                messages,
                sources_used: sources.len(),
            });
        }
    }
    let tightest = SOURCE_CHARS[SOURCE_CHARS.len() - 1];
    for n in (1..sources.len()).rev() {
        if let Some(messages) = fits(n, tightest)? {
            return Ok(Prompt {
                messages,
                sources_used: n,
            });
        }
    }
    // Over the budget even with one source: the best one goes in whole if the context window holds
    // it (the budget is for speed; an answer needs its evidence), else cut to the tightest.
    let n = sources.len().min(1);
    for chars in [SOURCE_CHARS[0], tightest] {
        let messages = messages(question, lang, &sources[..n], chars);
        if generator.count_tokens(&generator.render_chat(&messages)?)? <= window {
            return Ok(Prompt {
                messages,
                sources_used: n,
            });
        }
    }
    Ok(Prompt {
        messages: messages(question, lang, &[], tightest),
        sources_used: 0,
    })
}

/// The text every prompt of `lang` starts with as the model sees it: the chat template up to where
/// the user's turn begins (the system rules and the template's markers), for
/// [`Generator::prepare_prompt`].
pub(crate) fn shared_start(generator: &dyn Generator, lang: Lang) -> Result<String> {
    // A user turn of one marker character, cut off where the marker appears.
    const MARKER: &str = "\u{E000}";
    let mut messages = messages("", lang, &[], 0);
    messages[1] = ChatMessage::user(MARKER);
    let rendered = generator.render_chat(&messages)?;
    Ok(rendered
        .find(MARKER)
        .map_or(String::new(), |at| rendered[..at].to_string()))
}

/// The prompt over whole documents: every passage as it is, in reading order.
pub(crate) fn whole(question: &str, lang: Lang, sources: &[Source]) -> Vec<ChatMessage> {
    messages(question, lang, sources, usize::MAX)
}

fn messages(question: &str, lang: Lang, sources: &[Source], source_chars: usize) -> Vec<ChatMessage> {
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
            focus(&s.text, question, source_chars)
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

/// `text` cut to at most `max_chars` characters around the sentences that share the most with
/// `question` (character pairs, so it works for Chinese without segmentation), with `…` where
/// something was left out.
pub(crate) fn focus(text: &str, question: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let matcher = QuestionMatch::new(question);
    // Statements, not lines: a PDF wraps a sentence over lines, and a window starting at a wrapped
    // line gave the model "Windows and FileVault on macOS" without the "BitLocker (…) on" before it.
    let sentences = super::topic::statements(text);
    // Each joined by a line break.
    let lens: Vec<usize> = sentences.iter().map(|s| s.chars().count() + 1).collect();
    // Shared character pairs count double, shared characters once (each distinct one per sentence).
    let scores: Vec<usize> = sentences.iter().map(|s| matcher.score(s)).collect();
    // The contiguous run of sentences within the limit with the highest score; on a tie the
    // shorter (denser) run, then the earlier.
    let (mut best, mut best_key) = ((0, 0), (0, usize::MAX));
    for start in 0..sentences.len() {
        let (mut len, mut score) = (0, 0);
        let mut end = start;
        while end < sentences.len() && len + lens[end] <= max_chars {
            len += lens[end];
            score += scores[end];
            end += 1;
        }
        let better = score > best_key.0 || (score == best_key.0 && len < best_key.1);
        if end > start && (better || best.1 == best.0) {
            (best, best_key) = ((start, end), (score, len));
        }
    }
    if best.1 == best.0 {
        // One sentence longer than the limit: its start.
        let cut: String = text.chars().take(max_chars).collect();
        return format!("{cut}…");
    }
    let mut out = String::new();
    if best.0 > 0 {
        out.push('…');
    }
    out.push_str(sentences[best.0..best.1].join("\n").trim());
    if best.1 < sentences.len() {
        out.push('…');
    }
    out
}

/// How much a sentence shares with a question. Han text is compared by characters (shared pairs
/// count double, shared characters once, each distinct one per sentence), so it works without
/// segmentation; Latin text by words, lightly stemmed, with adjacent word pairs counting again.
/// Letter pairs made English sentences look alike: every long sentence shares "in", "re", "at"
/// with any question, so the longest window won and "Report every incident within 1 hour" lost to
/// the later sentences of its own passage.
pub(crate) struct QuestionMatch {
    pairs: HashSet<(char, char)>,
    chars: HashSet<char>,
    words: HashSet<String>,
    word_pairs: HashSet<(String, String)>,
}

/// What a shared Latin word (or word pair) is worth: as much as a shared two-character Han word
/// (one pair, two characters).
const WORD_WEIGHT: usize = 4;

impl QuestionMatch {
    pub(crate) fn new(question: &str) -> Self {
        let question = question.to_lowercase();
        let words = latin_words(&question);
        QuestionMatch {
            pairs: non_latin_pairs(&question).into_iter().collect(),
            chars: question.chars().filter(|c| is_compared_char(*c)).collect(),
            word_pairs: words.windows(2).map(|w| (w[0].clone(), w[1].clone())).collect(),
            words: words.into_iter().collect(),
        }
    }

    pub(crate) fn score(&self, sentence: &str) -> usize {
        let s = sentence.to_lowercase();
        let shared_pairs: HashSet<(char, char)> = non_latin_pairs(&s)
            .into_iter()
            .filter(|p| self.pairs.contains(p))
            .collect();
        let shared_chars: HashSet<char> = s.chars().filter(|c| self.chars.contains(c)).collect();
        let words = latin_words(&s);
        let shared_words: HashSet<&String> = words.iter().filter(|w| self.words.contains(*w)).collect();
        let shared_word_pairs: HashSet<(&String, &String)> = words
            .windows(2)
            .map(|w| (&w[0], &w[1]))
            .filter(|(a, b)| self.word_pairs.contains(&((*a).clone(), (*b).clone())))
            .collect();
        2 * shared_pairs.len()
            + shared_chars.len()
            + WORD_WEIGHT * (shared_words.len() + shared_word_pairs.len())
    }
}

/// A letter of a Latin (or other alphabetic, non-Han) word.
fn is_word_letter(c: char) -> bool {
    c.is_alphabetic() && !crate::segment::is_han(c)
}

/// Characters compared one by one: Han characters and digits.
fn is_compared_char(c: char) -> bool {
    c.is_alphanumeric() && !is_word_letter(c)
}

/// Adjacent Han characters and digits (punctuation and spaces skipped, a Latin word breaks the run).
fn non_latin_pairs(text: &str) -> Vec<(char, char)> {
    let mut out = Vec::new();
    let mut prev: Option<char> = None;
    for c in text.chars() {
        if is_word_letter(c) {
            prev = None;
        } else if is_compared_char(c) {
            if let Some(p) = prev {
                out.push((p, c));
            }
            prev = Some(c);
        }
    }
    out
}

/// The content words of Latin text, in order, each lightly stemmed (see [`super::topic::stem`]); words that only
/// ask or join (`topic` stop words, under three letters) are left out.
fn latin_words(text: &str) -> Vec<String> {
    text.split(|c: char| !is_word_letter(c))
        .filter(|w| w.chars().count() >= 3 && super::topic::is_content_word(w))
        .map(super::topic::stem)
        .collect()
}

/// Adjacent character pairs, whitespace and punctuation skipped.
pub(crate) fn pairs(text: &str) -> impl Iterator<Item = (char, char)> + '_ {
    let chars: Vec<char> = text.chars().filter(|c| c.is_alphanumeric()).collect();
    (0..chars.len().saturating_sub(1))
        .map(move |i| (chars[i], chars[i + 1]))
        .collect::<Vec<_>>()
        .into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A generator that only renders, with one of the models' real chat templates (a fake: nothing
    /// is generated).
    struct Templated(doctalk_models::llm::ChatTemplate);

    impl Generator for Templated {
        fn model_id(&self) -> &str {
            "templated"
        }
        fn context_window(&self) -> usize {
            4096
        }
        fn count_tokens(&self, text: &str) -> doctalk_models::Result<usize> {
            Ok(text.chars().count())
        }
        fn render_chat(&self, messages: &[ChatMessage]) -> doctalk_models::Result<String> {
            self.0.render(messages)
        }
        fn generate(
            &self,
            _: &str,
            _: &doctalk_models::llm::GenerationParams,
            _: &mut dyn FnMut(&str) -> std::ops::ControlFlow<()>,
        ) -> doctalk_models::Result<doctalk_models::llm::GenerationOutput> {
            unreachable!("only rendered")
        }
    }

    #[test]
    fn the_shared_start_is_where_every_prompt_begins() {
        use doctalk_models::llm::{ChatTemplate, CHATGLM3_TEMPLATE, GEMMA3_TEMPLATE, GLM4_TEMPLATE};
        for source in [CHATGLM3_TEMPLATE, GEMMA3_TEMPLATE, GLM4_TEMPLATE] {
            let g = Templated(ChatTemplate::new(source, "<bos>", "<eos>").unwrap());
            for (lang, rules, question) in [
                (Lang::Zh, RULES_ZH, "年假有多少天？"),
                (Lang::En, RULES_EN, "How many days of leave?"),
            ] {
                let start = shared_start(&g, lang).unwrap();
                assert!(start.contains(rules), "{start}");
                let prompt = g.render_chat(&messages(question, lang, &[], 200)).unwrap();
                assert!(prompt.starts_with(&start), "{start:?} does not start {prompt:?}");
                assert!(prompt.len() > start.len() + question.len());
            }
        }
    }

    #[test]
    fn a_long_source_keeps_the_sentences_that_match_the_question() {
        let text = "公司实行弹性工作制。核心工作时间为上午10点至下午4点。员工每年享有带薪年假。\
                    年假天数：工作满一年13天，满三年15天。病假需提交医院证明。";
        let got = focus(text, "年假有多少天？", 40);
        assert!(got.contains("13天"), "{got}");
        assert!(!got.contains("弹性"), "{got}");
        assert!(got.chars().count() <= 42, "{got}");
        assert!(got.starts_with('…'));
    }

    #[test]
    fn short_sources_are_untouched_and_one_long_sentence_is_cut() {
        assert_eq!(focus("短文本。", "问题", 100), "短文本。");
        let long = "a".repeat(50);
        assert_eq!(focus(&long, "b", 10), format!("{}…", "a".repeat(10)));
    }

    /// The real policy page behind "Which disk encryption is used on Windows laptops?": the
    /// sentence that names BitLocker is wrapped over two lines, and a window never starts inside it
    /// (cut at the line, the model answered "Windows and FileVault on macOS").
    #[test]
    fn a_sentence_wrapped_over_lines_is_kept_whole() {
        let page = "All Company laptops must have full-disk encryption enabled: BitLocker (XTS-AES 256) on\n\
                    Windows and FileVault on macOS.\n\
                    The canteen opens at 11:30 and closes at 13:30 on every working day of the week.";
        let got = focus(page, "Which disk encryption is used on Windows laptops?", 130);
        assert!(
            got.contains("BitLocker (XTS-AES 256) on Windows and FileVault on macOS."),
            "{got}"
        );
        let decimals = focus(
            "Version 2.5 is out. Install it now. Nothing else here at all.",
            "version",
            25,
        );
        assert!(decimals.starts_with("Version 2.5 is out."), "{decimals}");
    }

    /// The real "8. Incident Reporting" passage of examples/sample-kb/it-security-policy.pdf: at every
    /// budget the prompt tries, the window keeps "Report every incident within 1 hour" (compared by
    /// letter pairs it kept the later "confirms receipt within 30 minutes" instead, and the model
    /// answered "30 minutes").
    #[test]
    fn an_english_window_is_chosen_by_the_questions_words() {
        let passage = "8. Incident Reporting
A security incident is any event that may put Company or customer data at risk: a lost or stolen
device, a suspected phishing compromise, malware, data sent to the wrong recipient, or unauthorised
access.

 Report every incident within 1 hour of discovering it. Call the security hotline on extension 8110

 For a lost or stolen device, also tell the IT Service Desk so the device can be locked and wiped
remotely. Report theft to the local police and attach the police report to the ticket.
 Do not try to investigate on your own, do not delete evidence and do not switch off an infected
computer; disconnect it from the network instead.
 The Information Security Department confirms receipt within 30 minutes, classifies the incident

Employees who report incidents promptly in good faith will not be disciplined for the mistake that

and, where personal data is affected, notifies regulators and customers as the law requires.

caused them.";
        for chars in [600, 400, 300] {
            let got = focus(passage, "How soon must a security incident be reported?", chars);
            assert!(
                got.contains("Report every incident within 1 hour"),
                "{chars}: {got}"
            );
        }
        let matcher = QuestionMatch::new("How long do customer file-sharing links stay valid?");
        assert!(matcher.score("Links to customers expire within 30 days.") >= 2 * WORD_WEIGHT);
    }
}
