//! The answer pipeline's decisions in seconds, with a real parser and a real LanceDB directory but
//! fast fakes for the two models: a character-bigram encoder and a scripted generator that returns
//! a fixed reply and records the prompt it was given. (The same paths with the real models are
//! tested end to end in `doctalk-cli`'s tests.)

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::{Arc, Mutex};

use doctalk_core::{AnswerEvent, AnswerMode, AnswerRequest, Embedder, KnowledgeBase, Scope, ScopeRequest};
use doctalk_models::llm::{ChatMessage, GenerationOutput, GenerationParams, Generator, StopReason};

/// Character bigrams hashed into 256 dimensions, normalised: texts sharing words are close.
struct BigramEncoder;

impl BigramEncoder {
    fn embed(text: &str) -> Vec<f32> {
        let mut v = vec![0.0f32; 256];
        let chars: Vec<char> = text
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect();
        for w in chars.windows(2) {
            let h = (w[0] as u32).wrapping_mul(31).wrapping_add(w[1] as u32) as usize % 256;
            v[h] += 1.0;
        }
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-6);
        v.iter().map(|x| x / norm).collect()
    }
}

impl Embedder for BigramEncoder {
    fn model_id(&self) -> &str {
        "test/bigram-encoder"
    }
    fn dimension(&self) -> usize {
        256
    }
    fn max_tokens(&self) -> usize {
        512
    }
    fn embed_passages(&self, texts: &[&str]) -> doctalk_models::Result<Vec<Vec<f32>>> {
        Ok(texts.iter().map(|t| Self::embed(t)).collect())
    }
    fn embed_query(&self, text: &str) -> doctalk_models::Result<Vec<f32>> {
        Ok(Self::embed(text))
    }
}

type Reply = Box<dyn Fn(&str) -> String + Send + Sync>;

/// Answers each prompt with its scripted reply, streamed a few characters at a time; keeps the
/// prompts it was given.
struct ScriptedGenerator {
    reply: Reply,
    window: usize,
    prompt: Mutex<String>,
    prompts: Mutex<Vec<String>>,
}

impl ScriptedGenerator {
    fn new(reply: &str, window: usize) -> Arc<Self> {
        let reply = reply.to_string();
        Self::by_prompt(Box::new(move |_| reply.clone()), window)
    }

    /// The reply depends on the prompt (what the model was shown).
    fn by_prompt(reply: Reply, window: usize) -> Arc<Self> {
        Arc::new(ScriptedGenerator {
            reply,
            window,
            prompt: Mutex::new(String::new()),
            prompts: Mutex::new(Vec::new()),
        })
    }
}

impl Generator for ScriptedGenerator {
    fn model_id(&self) -> &str {
        "test/scripted"
    }
    fn context_window(&self) -> usize {
        self.window
    }
    fn prompt_budget(&self) -> Option<usize> {
        Some(768)
    }
    fn count_tokens(&self, text: &str) -> doctalk_models::Result<usize> {
        Ok(text.chars().count() / 2 + 1)
    }
    fn render_chat(&self, messages: &[ChatMessage]) -> doctalk_models::Result<String> {
        Ok(messages
            .iter()
            .map(|m| m.content.as_str())
            .collect::<Vec<_>>()
            .join("\n"))
    }
    fn generate(
        &self,
        prompt: &str,
        _params: &GenerationParams,
        on_token: &mut dyn FnMut(&str) -> ControlFlow<()>,
    ) -> doctalk_models::Result<GenerationOutput> {
        *self.prompt.lock().unwrap() = prompt.to_string();
        self.prompts.lock().unwrap().push(prompt.to_string());
        let reply = (self.reply)(prompt);
        let chars: Vec<char> = reply.chars().collect();
        for piece in chars.chunks(3) {
            if on_token(&piece.iter().collect::<String>()).is_break() {
                break;
            }
        }
        Ok(GenerationOutput {
            text: reply.clone(),
            prompt_tokens: self.count_tokens(prompt)?,
            reused_prompt_tokens: 0,
            completion_tokens: chars.len(),
            guessed_tokens: 0,
            stop_reason: StopReason::EndOfText,
        })
    }
}

const HANDBOOK: &str = "# 员工手册\n\n## 作息\n\n公司实行弹性工作制，每天工作8小时。午休时间为中午十二点到下午一点，午休期间请保持安静。\n\n## 年假\n\n年假以半天为最小单位，须提前3个工作日申请。当年未休完的年假可顺延至次年3月31日，逾期作废。新入职员工在入职满3个月后方可开始休年假，当年年假按剩余日历天数折算。\n\n## 报销\n\n出差结束后10个工作日内提交报销。财务审核通过后，每周二和周四统一打款。\n";

async fn handbook(dir: &Path) -> (KnowledgeBase, Scope) {
    let file = dir.join("员工手册.md");
    std::fs::write(&file, HANDBOOK).unwrap();
    let kb = KnowledgeBase::open(&dir.join("kb"), Arc::new(BigramEncoder))
        .await
        .unwrap();
    kb.ingest(&[file], &|_| {}).await.unwrap();
    let scope = kb
        .resolve_scope(&ScopeRequest {
            docs: vec!["员工手册.md".into()],
            folders: vec![],
        })
        .await
        .unwrap()
        .unwrap();
    (kb, scope)
}

/// Asks with `generator`; returns the answer and every piece of text streamed to the user.
async fn ask(
    kb: &KnowledgeBase,
    question: &str,
    generator: Arc<ScriptedGenerator>,
    scope: Option<Scope>,
) -> (doctalk_core::Answer, String) {
    let mut req = AnswerRequest::new(question);
    req.generator = Some(generator);
    req.scope = scope;
    let shown = Arc::new(Mutex::new(String::new()));
    let sink = shown.clone();
    let answer = kb
        .answer(
            req,
            Arc::new(move |e| {
                if let AnswerEvent::Token(t) = e {
                    sink.lock().unwrap().push_str(&t);
                }
            }),
        )
        .await
        .unwrap();
    let shown = shown.lock().unwrap().clone();
    (answer, shown)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scoped_document_that_fits_is_read_whole_and_one_that_does_not_is_searched() {
    let dir = tempfile::tempdir().unwrap();
    let (kb, scope) = handbook(dir.path()).await;
    let chunks = kb.documents().await.unwrap()[0].chunks as usize;
    let q = "没休完的年假可以留到什么时候？";

    let generator = ScriptedGenerator::new("当年未休完的年假可顺延至次年3月31日[2]。", 4096);
    let (answer, shown) = ask(&kb, q, generator.clone(), Some(scope.clone())).await;
    assert!(answer.whole_document, "{answer:?}");
    assert_eq!(answer.sources.len(), chunks);
    let prompt = generator.prompt.lock().unwrap().clone();
    for needle in ["午休时间为中午十二点", "顺延至次年3月31日", "每周二和周四"] {
        assert!(
            prompt.contains(needle),
            "every passage is in the prompt: {needle}"
        );
    }
    assert!(shown.contains("3月31日"), "{shown}");

    // A context window too small for the whole document: retrieved passages, said so by the flag.
    let small = ScriptedGenerator::new("当年未休完的年假可顺延至次年3月31日[1]。", 200);
    let (answer, _) = ask(&kb, q, small, Some(scope)).await;
    assert!(!answer.whole_document, "{answer:?}");
    // Unscoped: never read whole.
    let generator = ScriptedGenerator::new("当年未休完的年假可顺延至次年3月31日[1]。", 4096);
    let (answer, _) = ask(&kb, q, generator, None).await;
    assert!(!answer.whole_document);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_whose_every_claim_fails_shows_nothing_of_it_and_answers_from_the_passages() {
    let dir = tempfile::tempdir().unwrap();
    let (kb, _) = handbook(dir.path()).await;
    let wrong = ScriptedGenerator::new("中午两点开始午休[1]。", 4096);
    let (answer, shown) = ask(&kb, "中午几点开始午休？", wrong.clone(), None).await;
    assert_eq!(
        wrong.prompts.lock().unwrap().len(),
        1,
        "a made-up figure is not asked for again"
    );
    assert!(
        !shown.contains("两点"),
        "the wrong figure was never shown: {shown}"
    );
    assert_eq!(answer.mode, AnswerMode::Extractive, "{answer:?}");
    assert!(answer.answer.contains("十二点"), "{}", answer.answer);
    let reason = answer.fallback_reason.clone().unwrap_or_default();
    assert!(reason.contains("“2”"), "the reason names the claim: {reason}");
    assert_eq!(answer.model_text.as_deref(), Some("中午两点开始午休[1]。"));
}

/// The other second look: nothing of the model's first answer stood (it answered the neighbouring
/// question), so it is asked again over the best two passages, numbered 1 and 2 in that prompt;
/// its answer from them is kept and streamed with the citations the answer's sources have. A
/// model that made a figure up is not asked again (see the test above: two prompts would show it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_that_failed_whole_gets_a_second_look_over_the_best_two() {
    let dir = tempfile::tempdir().unwrap();
    let (kb, _) = handbook(dir.path()).await;
    let q = "中午几点开始午休？";
    let unsure = ScriptedGenerator::by_prompt(
        Box::new(|prompt: &str| {
            if prompt.contains("[3] ") {
                "财务审核通过后统一打款。".to_string()
            } else {
                "午休时间为中午十二点到下午一点[1]。".to_string()
            }
        }),
        4096,
    );
    let (answer, shown) = ask(&kb, q, unsure.clone(), None).await;
    let prompts = unsure.prompts.lock().unwrap().clone();
    assert_eq!(prompts.len(), 2, "asked twice");
    assert!(!prompts[1].contains("[3] "), "two passages the second time");
    assert_eq!(answer.mode, AnswerMode::Llm, "{answer:?}");
    assert!(!shown.contains("打款") && shown.contains("十二点"), "{shown}");
    for n in &answer.cited {
        let source = answer.sources.iter().find(|s| s.n == *n).unwrap();
        assert!(
            source.text.contains("十二点"),
            "[{n}] is the source shown under that number"
        );
    }
    assert!(!answer.cited.is_empty(), "{answer:?}");
    let reason = answer.fallback_reason.clone().unwrap_or_default();
    assert!(reason.contains("asked again"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_to_the_neighbouring_sentence_falls_back_to_the_passages() {
    let dir = tempfile::tempdir().unwrap();
    let (kb, _) = handbook(dir.path()).await;
    let q = "没休完的年假可以留到什么时候？";
    let neighbour = ScriptedGenerator::new(
        "新入职员工在入职满3个月后方可开始休年假，当年年假按剩余日历天数折算[1]。",
        4096,
    );
    let (answer, shown) = ask(&kb, q, neighbour, None).await;
    // Only the passages were streamed (which hold the model's sentence among others).
    assert_eq!(shown.trim(), answer.answer.trim());
    assert!(!shown.starts_with("新入职"), "{shown}");
    assert_eq!(answer.mode, AnswerMode::Extractive);
    assert!(answer.answer.contains("3月31日"), "{}", answer.answer);
    assert!(
        answer
            .fallback_reason
            .as_deref()
            .unwrap_or_default()
            .contains("match the question"),
        "{answer:?}"
    );
    // The right sentence streams through as the model wrote it.
    let right = ScriptedGenerator::new("当年未休完的年假可顺延至次年3月31日[1]。", 4096);
    let (answer, shown) = ask(&kb, q, right, None).await;
    assert_eq!(answer.mode, AnswerMode::Llm, "{answer:?}");
    assert!(shown.contains("顺延至次年3月31日"), "{shown}");
}

const IT_NOTES: &str = "# IT notes\n\n## Token app error codes\n\nAn error code of the token app means the app needs a clock sync.\n\n## Expired tokens\n\nError code E4711 of the token app: the token expired.\n\n## Printers\n\nPrinters on every floor accept jobs from the print queue.\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passage_holding_the_querys_error_code_ranks_first_and_the_explanation_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("it-notes.md");
    std::fs::write(&file, IT_NOTES).unwrap();
    let kb = KnowledgeBase::open(&dir.path().join("kb"), Arc::new(BigramEncoder))
        .await
        .unwrap();
    kb.ingest(&[file], &|_| {}).await.unwrap();

    let query = "token app error code E4711";
    let explained = kb.explain(query, 3, None).await.unwrap();
    assert_eq!(explained.identifiers, ["E4711"]);
    let top = &explained.hits[0];
    assert!(top.text.contains("E4711"), "{:#?}", explained.hits);
    assert!(top.identifier_match);
    // The encoder alone prefers the section about the app's error codes, which shares more words.
    assert!(top.dense.unwrap().rank > 1, "{top:?}");
    // Its fused score is its cosine, BM25's share and the identifiers' bonus.
    let best_bm25 = explained.evidence.top_bm25_score.unwrap();
    let parts = top.dense.unwrap().score
        + (explained.bm25_weight * f64::from(top.bm25.unwrap().score / best_bm25)) as f32
        + explained.identifier_bonus as f32;
    assert!((top.fused_score - parts).abs() < 1e-5, "{top:?} vs {parts}");
    assert!(!explained.hits[1].identifier_match);
    // Every hit carries the dense view, and the ranks are the shown order.
    for (i, hit) in explained.hits.iter().enumerate() {
        assert_eq!(hit.rank, i + 1);
        assert!(hit.dense.is_some());
    }
    // This encoder has no calibrated threshold: every retrieved passage is offered (up to five).
    assert!(explained.grounded && explained.evidence.threshold.is_none());
    assert_eq!(explained.offered, explained.hits.len().min(5));
    // The search an answer runs agrees with the explanation.
    let hits = kb.search(query, 3).await.unwrap();
    assert_eq!(hits[0].chunk_id, top.chunk_id);
}

/// The "second look": a model that says the documents hold nothing when shown every retrieved
/// passage (as the default model did for "How thick are stroked lines…" on the held-out set) is
/// asked again over the best two, and its answer from them is kept and streamed; a model that
/// refuses both times is a refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_over_many_passages_gets_a_second_look_over_the_best_two() {
    let dir = tempfile::tempdir().unwrap();
    let (kb, _) = handbook(dir.path()).await;
    let q = "中午几点开始午休？";
    let shy = ScriptedGenerator::by_prompt(
        Box::new(|prompt: &str| {
            if prompt.contains("[3] ") {
                "您的文档中没有找到相关内容。".to_string()
            } else {
                "午休时间为中午十二点到下午一点[1]。".to_string()
            }
        }),
        4096,
    );
    let (answer, shown) = ask(&kb, q, shy.clone(), None).await;
    assert!(answer.sources.len() > 2, "{answer:?}");
    let prompts = shy.prompts.lock().unwrap().clone();
    assert_eq!(prompts.len(), 2, "asked twice");
    assert!(prompts[0].contains("[3] ") && !prompts[1].contains("[3] "));
    assert_eq!(answer.mode, AnswerMode::Llm, "{answer:?}");
    assert!(answer.answer.contains("十二点"), "{}", answer.answer);
    assert!(shown.contains("十二点") && !shown.contains("没有找到"), "{shown}");
    assert!(
        answer
            .fallback_reason
            .as_deref()
            .unwrap_or("")
            .contains("asked again"),
        "{:?}",
        answer.fallback_reason
    );

    let stubborn = ScriptedGenerator::new("您的文档中没有找到相关内容。", 4096);
    let (answer, _) = ask(&kb, q, stubborn.clone(), None).await;
    assert_eq!(stubborn.prompts.lock().unwrap().len(), 2);
    assert!(!answer.answer.contains("两点"), "{}", answer.answer);
}
