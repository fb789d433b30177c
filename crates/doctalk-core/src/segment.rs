//! Text → whitespace-separated search tokens, the same way for documents and queries.
//!
//! Why here and not in the store: LanceDB's full-text index only splits on whitespace in the
//! configuration we use, so Chinese has to arrive already segmented into words. Han runs go
//! through jieba in search mode (which also emits the sub-words of long compounds, so
//! "出差制度" is findable as "出差" and "制度"); other scripts are split on non-alphanumerics and
//! lower-cased, without stemming.

use std::sync::OnceLock;

use jieba_rs::Jieba;

fn jieba() -> &'static Jieba {
    static JIEBA: OnceLock<Jieba> = OnceLock::new();
    JIEBA.get_or_init(Jieba::new)
}

/// True for characters that jieba should see (Han ideographs; CJK punctuation excluded). One
/// definition for the workspace, beside the 简繁 tables that need it too.
pub(crate) use doctalk_models::script::is_han;

/// Tokens for indexing or querying, in text order. Punctuation and whitespace are dropped.
pub fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut han_run = String::new();
    let mut word = String::new();
    let flush_word = |word: &mut String, out: &mut Vec<String>| {
        if !word.is_empty() {
            out.push(word.to_lowercase());
            word.clear();
        }
    };
    let flush_han = |run: &mut String, out: &mut Vec<String>| {
        if !run.is_empty() {
            for t in jieba().cut_for_search(run, true) {
                let w = t.word.trim();
                if !w.is_empty() {
                    out.push(w.to_string());
                }
            }
            run.clear();
        }
    };
    for c in text.chars() {
        if is_han(c) {
            flush_word(&mut word, &mut out);
            han_run.push(c);
        } else if c.is_alphanumeric() {
            flush_han(&mut han_run, &mut out);
            word.push(c);
        } else {
            flush_word(&mut word, &mut out);
            flush_han(&mut han_run, &mut out);
        }
    }
    flush_word(&mut word, &mut out);
    flush_han(&mut han_run, &mut out);
    out
}

/// [`tokens`] joined by single spaces: the form stored in the full-text column.
pub fn segment(text: &str) -> String {
    tokens(text).join(" ")
}

/// The nouns of the Han text in `text` (jieba's part-of-speech tags n, nr, ns, nt, nz, …), two
/// characters or more: what a sentence speaks of, not how much or how it asks.
pub(crate) fn han_nouns(text: &str) -> Vec<String> {
    jieba()
        .tag(text, true)
        .into_iter()
        .filter(|t| t.tag.starts_with('n') && t.word.chars().count() >= 2 && t.word.chars().all(is_han))
        .map(|t| t.word.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_is_split_into_words_and_subwords() {
        let t = tokens("请问商旅的出差制度");
        assert!(t.contains(&"出差".to_string()), "{t:?}");
        assert!(t.contains(&"制度".to_string()), "{t:?}");
        assert!(!t.iter().any(|w| w.chars().count() > 4), "{t:?}");
    }

    #[test]
    fn english_is_lowercased_without_stemming() {
        assert_eq!(
            tokens("Download the VPN-Client, now!"),
            ["download", "the", "vpn", "client", "now"]
        );
    }

    #[test]
    fn mixed_scripts_and_app_names() {
        let t = tokens("如何下载滴滴APP");
        assert!(t.contains(&"app".to_string()), "{t:?}");
        assert!(t.contains(&"下载".to_string()), "{t:?}");
        assert!(t.iter().any(|w| w.contains("滴滴")), "{t:?}");
    }

    #[test]
    fn punctuation_only_gives_nothing() {
        assert!(tokens("。，！？ ... ---").is_empty());
    }

    #[test]
    fn nouns_are_what_is_spoken_of() {
        let nouns = han_nouns("公司健身房几点开门");
        assert!(nouns.contains(&"健身房".to_string()), "{nouns:?}");
        // How much, how it goes and what it is like are not what a question speaks of.
        assert_eq!(han_nouns("市内交通补贴一天多少？"), ["交通", "补贴"]);
        assert!(han_nouns("pip 装 cnocr 太慢，可以换成哪个国内源？").is_empty());
    }
}
