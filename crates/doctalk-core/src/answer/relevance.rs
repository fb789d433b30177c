//! Whether a generated answer speaks to the question. The small default model often answers a
//! neighbouring question from the right passage ("没休完的年假可以留到什么时候？" answered with when
//! new staff may start taking leave, from the same paragraph): every fact is in the source, so the
//! claim gate lets it through. Here the source sentences the answer was drawn from are compared with
//! the offered sentence that matches the question best; an answer drawn only from sentences that
//! match it far less is off the question. A sentence speaks for its section: it matches the question
//! at least as well as its passage's heading (or its FAQ entry's question) does, so an answer that
//! says "伙食补贴…每天120元" under "4.5出差补贴" answers "出差的话一天餐补给多少" though the
//! sentence shares no word with the question.

use super::prompt::{pairs, QuestionMatch};
use super::topic::statements;
use super::Source;
use crate::answer::claims::strip_citations;
use doctalk_store::ChunkKind;

/// An answer whose best supporting sentence matches the question less than this share of the best
/// offered sentence's match is off the question.
const MIN_SHARE_OF_BEST: f32 = 0.5;
/// Below this match the question has too little to compare (one shared word).
const MIN_BEST_MATCH: usize = 6;
/// Share of an answer statement's character pairs a source sentence must hold to be where it was
/// drawn from.
const MIN_DRAWN: f32 = 0.4;

/// `(drawn, best)`: how well the sentences the answer was drawn from match the question, and how
/// well the best offered sentence does; `None` when the answer cannot be traced to any sentence.
pub(crate) fn match_of(answer: &str, question: &str, offered: &[Source]) -> Option<(usize, usize)> {
    let matcher = QuestionMatch::new(question);
    // Each offered sentence with how well its section (heading path, or FAQ question) matches.
    let sentences: Vec<(String, usize)> = offered
        .iter()
        .flat_map(|source| {
            let section = matcher.score(&section_of(source));
            statements(&source.text).into_iter().map(move |s| (s, section))
        })
        .collect();
    let best = sentences.iter().map(|(s, _)| matcher.score(s)).max()?;
    let mut drawn: Option<usize> = None;
    for stated in statements(&strip_citations(answer)) {
        let wanted: Vec<(char, char)> = pairs(&stated.to_lowercase()).collect();
        if wanted.len() < 4 {
            continue;
        }
        let source = sentences
            .iter()
            .map(|(s, section)| {
                let have: std::collections::HashSet<(char, char)> = pairs(&s.to_lowercase()).collect();
                let shared = wanted.iter().filter(|p| have.contains(p)).count();
                (shared as f32 / wanted.len() as f32, s, *section)
            })
            .max_by(|a, b| a.0.total_cmp(&b.0));
        if let Some((_, s, section)) = source.filter(|(share, _, _)| *share >= MIN_DRAWN) {
            let score = matcher.score(s).max(section);
            drawn = Some(drawn.map_or(score, |d| d.max(score)));
        }
    }
    drawn.map(|d| (d, best))
}

/// What a source's sentences speak of: its heading path, or an FAQ entry's question (the first line of
/// its shown text).
fn section_of(source: &Source) -> String {
    if source.kind == ChunkKind::Qa {
        return source.text.lines().next().unwrap_or_default().to_string();
    }
    source.heading_path.join(" ")
}

/// The answer was drawn from sentences that match the question far less than another offered one.
pub(crate) fn off_question(answer: &str, question: &str, offered: &[Source]) -> bool {
    let matched = match_of(answer, question, offered);
    tracing::debug!(?matched, question, "answer relevance (drawn, best)");
    match matched {
        Some((drawn, best)) => best >= MIN_BEST_MATCH && (drawn as f32) < MIN_SHARE_OF_BEST * best as f32,
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(n: usize, text: &str) -> Source {
        Source {
            n,
            path: "/docs/员工手册.pdf".into(),
            also_at: vec![],
            title: "员工手册".into(),
            page: Some(n as u32),
            text: text.into(),
            kind: doctalk_store::ChunkKind::Passage,
            doc_id: "d".into(),
            chunk_id: format!("d:{n}"),
            heading_path: vec![],
            row: None,
            score: 0.9,
        }
    }

    /// The default model's real answer (bench answers, 2026-12-06): every fact is in source [1],
    /// but it tells when new staff may start taking leave, not how long unused leave lasts.
    #[test]
    fn an_answer_to_the_neighbouring_sentence_is_off_the_question() {
        let sources = [source(
            1,
            "年假以半天为最小单位，须提前3个工作日在企业微信“假勤”中申请。当年未休完的年假可\n顺延至次年3月31日，逾期作废。新入职员工在入职满3个月后方可开始休年假，当年年假按\n剩余日历天数折算。",
        )];
        let q = "没休完的年假可以留到什么时候？";
        assert!(off_question(
            "新入职员工在入职满3个月后方可开始休年假，当年年假按剩余日历天数折算[1]。",
            q,
            &sources
        ));
        assert!(!off_question(
            "当年未休完的年假可顺延至次年3月31日[1]。",
            q,
            &sources
        ));
        // Nothing to trace (a bare figure) is never called off the question.
        assert!(!off_question("3月31日", q, &sources));
        // Under its real heading the neighbouring sentence is still off the question: the section
        // speaks of leave, the question of leave carried over.
        let mut under_heading = sources[0].clone();
        under_heading.heading_path = vec!["第三章考勤与休假".into(), "3.3年假".into()];
        assert!(off_question(
            "新入职员工在入职满3个月后方可开始休年假，当年年假按剩余日历天数折算[1]。",
            q,
            &[under_heading]
        ));
    }

    /// The default model's real answer (CLI tests, 2026-12-06) to "出差的话一天餐补给多少": right,
    /// in the handbook's words ("伙食补贴"), which share nothing with the question's "餐补" — but
    /// the handbook passage sits under "4.5出差补贴", and the FAQ entry it matches asks
    /// "出差补贴怎么算？".
    #[test]
    fn a_sentence_in_other_words_speaks_for_its_section() {
        let mut faq = source(
            1,
            "出差补贴怎么算？\n伙食补贴一类城市每天120元、其他城市每天100元；市内交通补贴每天50元（当天用了企业支付打车则不发）。出发当天12:00以后出发或返回当天12:00以前到达的，当天按半天计算。境外出差统一每天60美元。补贴无需发票，随差旅报销单发放。",
        );
        faq.kind = ChunkKind::Qa;
        let mut stay = source(2, "出差住宿标准是多少？\n每人每晚限额：一类城市（北京、上海、广州、深圳）总监及以上900元、经理及高级专家700元、其他员工500元。");
        stay.kind = ChunkKind::Qa;
        let mut handbook = source(
            3,
            "• 伙食补贴：一类城市每人每天120元，其他城市每人每天100元；\n• 市内交通补贴：每人每天50元；\n境外出差的伙食和交通补贴统一为每人每天60美元。",
        );
        handbook.heading_path = vec!["第四章商旅与出差制度".into(), "4.5出差补贴".into()];
        let answer = "伙食补贴：一类城市每人每天120元，其他城市每人每天100元；[1]";
        assert!(!off_question(
            answer,
            "出差的话一天餐补给多少",
            &[faq, stay, handbook]
        ));
    }
}
