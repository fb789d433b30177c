// Generated from the Rust types by crates/doctalk-app/tests/typescript.rs; do not edit.
// DOCTALK_BLESS=1 cargo test -p doctalk-app --test typescript writes it anew.

export type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]: JsonValue } | null;

/**
 * That the engine answers, and what it runs on.
 */
export type Health = { status: 'ok', kb: string, documents: number, encoder: string, 
/**
 * The language model answering now (null: answers quote the passages).
 */
model: string | null, version: string, };

/**
 * The knowledge bases a caller may use.
 */
export type KbList = { 
/**
 * The one requests go to by default (null: the caller may use none).
 */
current: string | null, kbs: Array<KbSummary>, };

/**
 * A knowledge base as listed to the user.
 */
export type KbSummary = { name: string, documents: number, };

/**
 * A knowledge base just made.
 */
export type KbCreated = { name: string, };

/**
 * An archive restored as a new knowledge base.
 */
export type KbImported = { kb: string, documents: number, chunks: number, 
/**
 * The archive's vectors came from another encoder, so its passages were embedded again.
 */
reembedded: boolean, folders: number, conversations: number, 
/**
 * The archive's settings became this data directory's (it had none).
 */
settings_adopted: boolean, };

/**
 * A document as listed to users.
 */
export type DocumentInfo = { id: string, path: string, 
/**
 * Other paths with the same content (identical copies are one document).
 */
also_at: Array<string>, title: string, format: string, pages: number | null, chunks: number, size_bytes: number, embedding_model: string, ingested_at_ms: number, };

/**
 * What an ingest did, file by file (the `done` of an ingest stream).
 */
export type IngestDone = { files: Array<FileReport>, };

/**
 * The outcome for one file of an ingest job.
 */
export type FileReport = { path: string, status: FileStatus, doc_id: string | null, pages: number | null, chunks: number, diagnostics: Array<ReportedDiagnostic>, 
/**
 * For `Moved`: the path the document had; for `Duplicate`: the file with the same content.
 */
same_as?: string, };

export type FileStatus = "indexed" | "unchanged" | "failed" | "moved" | "duplicate";

/**
 * A diagnostic as shown to users: a stable code, a message, maybe a page.
 */
export type ReportedDiagnostic = { code: string, message: string, page: number | null, };

/**
 * Progress of an ingest job, in order, for progress bars and the UI.
 */
export type IngestEvent = { "event": "file_started", path: string, index: number, total: number, } | { "event": "stage", path: string, stage: IngestStage, } | { "event": "file_finished" } & FileReport;

export type IngestStage = { "stage": "parse" } | { "stage": "embed", done: number, total: number, eta_s: number | null, } | { "stage": "ocr", done: number, total: number, } | { "stage": "commit" };

/**
 * What a chunk is: a passage of a document, or one question–answer pair of an FAQ export
 * (whose questions and answer are kept in their own columns).
 */
export type ChunkKind = "passage" | "qa";

/**
 * One retrieved passage or FAQ entry with its provenance and scores.
 */
export type SearchHit = { 
/**
 * 1-based rank after fusion.
 */
rank: number, chunk_id: string, doc_id: string, path: string, 
/**
 * Other paths with the same file content (identical copies are one document).
 */
also_at?: Array<string>, title: string, page: number | null, kind: ChunkKind, text: string, heading_path: Array<string>, questions: Array<string>, answer: string | null, span: [number, number], fused_score: number, dense: ComponentScore | null, bm25: ComponentScore | null, 
/**
 * Similarity to a stored FAQ question when it is a near-exact match (ranked first).
 */
faq_match: number | null, 
/**
 * Whether the passage holds every identifier of the query (its fused score then carries
 * [`IDENTIFIER_BONUS`]; see [`fusion::identifiers`](crate::fusion::identifiers)).
 */
identifier_match: boolean, 
/**
 * The chunk's metadata: an FAQ row's extra columns and its row number, a passage's source id.
 */
metadata: JsonValue, 
/**
 * The knowledge base it comes from, in a search across several (see [`crate::across`]).
 */
kb?: string, };

/**
 * A component's opinion of one candidate.
 */
export type ComponentScore = { 
/**
 * 1-based rank in that component's list.
 */
rank: number, 
/**
 * Cosine similarity (dense) or BM25 score (lexical).
 */
score: number, };

/**
 * A search explained: the ranked hits (each with its dense and BM25 score and rank, its fused
 * score, and whether it matched a FAQ question or holds the query's identifiers) and the answer's
 * view.
 */
export type Explanation = { query: string, 
/**
 * What fusion added to a passage's cosine similarity: this × BM25 / the best BM25 score.
 */
bm25_weight: number, 
/**
 * The query's identifiers (codes, versions, product names).
 */
identifiers: Array<string>, 
/**
 * What a passage holding all of them adds to its fused score.
 */
identifier_bonus: number, hits: Array<SearchHit>, 
/**
 * The numbers the answer's "is it in the documents?" decision is made on (over the passages an
 * answer retrieves).
 */
evidence: Evidence, 
/**
 * Whether an answer would use the passages (false: "not found in your documents").
 */
grounded: boolean, 
/**
 * How many of the first hits an answer offers the language model (its prompt may drop the last
 * ones when they do not fit the model's prompt budget).
 */
offered: number, };

/**
 * Why an answer is (not) grounded: the numbers the decision was made on.
 */
export type Evidence = { 
/**
 * Cosine similarity of the best dense match.
 */
top_dense_score: number | null, 
/**
 * BM25 score of the best lexical match.
 */
top_bm25_score: number | null, 
/**
 * Similarity to a stored FAQ question when one matched near-exactly.
 */
faq_match: number | null, 
/**
 * The dense score a grounded answer needs (None: this encoder is not calibrated).
 */
threshold: number | null, 
/**
 * The largest share of the question's key terms that one retrieved passage contains.
 */
key_terms: number | null, 
/**
 * The best BM25 score of a passage whose dense score meets the threshold: one passage that
 * matches both the question's words and its meaning (see [`STRONG_LEXICAL_MATCH`]).
 */
matched_both: number | null, };

/**
 * What the user chose: documents and folders (both empty: the whole knowledge base).
 */
export type ScopeRequest = { 
/**
 * Document ids, unique id prefixes (6+ characters), paths as `doctalk list` shows them, or a
 * file name that only one document has.
 */
docs?: Array<string>, 
/**
 * Folders: every document whose file (or one of its identical copies) is inside one of them.
 */
folders?: Array<string>, };

/**
 * A question, as the UI sends it.
 */
export type AskRequest = { question: string, 
/**
 * A conversation id, or "new" to start one.
 */
conversation?: string, no_llm?: boolean, top_k?: number, 
/**
 * Only these documents or folders (none: the whole knowledge base).
 */
scope?: ScopeRequest, };

/**
 * An answer, and the conversation it was saved in (null: none was asked for).
 */
export type AskReply = { conversation: string | null, answer: string, sources: Array<Source>, 
/**
 * The query as searched.
 */
query: string, grounded: boolean, mode: AnswerMode, lang: Lang, evidence: Evidence, 
/**
 * Source numbers the answer cites.
 */
cited: Array<number>, 
/**
 * Citation numbers the model made up; removed from `answer`.
 */
invalid_citations: Array<number>, 
/**
 * The model read the scoped documents whole (every passage is a source, in reading order)
 * instead of retrieved passages: they fitted its context.
 */
whole_document: boolean, 
/**
 * Why the LLM was not used when one was asked for (failed to load, failed to run, no room).
 */
fallback_reason: string | null, 
/**
 * The model that wrote the answer, if any.
 */
model: string | null, 
/**
 * The user stopped generation; `answer` holds what was produced.
 */
cancelled: boolean, 
/**
 * Facts the model stated that its cited sources do not contain; each such sentence was shown
 * as the closest quote from the source instead (see `claims`).
 */
unverified: Array<UnsupportedClaim>, 
/**
 * What the model wrote before its sentences were checked (LLM mode; equals `answer` up to
 * citation clean-up when nothing was withheld).
 */
model_text?: string | null, 
/**
 * Where the time went, in milliseconds since the question arrived.
 */
timings: Timings, };

/**
 * A finished answer.
 */
export type Answer = { answer: string, sources: Array<Source>, 
/**
 * The query as searched.
 */
query: string, grounded: boolean, mode: AnswerMode, lang: Lang, evidence: Evidence, 
/**
 * Source numbers the answer cites.
 */
cited: Array<number>, 
/**
 * Citation numbers the model made up; removed from `answer`.
 */
invalid_citations: Array<number>, 
/**
 * The model read the scoped documents whole (every passage is a source, in reading order)
 * instead of retrieved passages: they fitted its context.
 */
whole_document: boolean, 
/**
 * Why the LLM was not used when one was asked for (failed to load, failed to run, no room).
 */
fallback_reason: string | null, 
/**
 * The model that wrote the answer, if any.
 */
model: string | null, 
/**
 * The user stopped generation; `answer` holds what was produced.
 */
cancelled: boolean, 
/**
 * Facts the model stated that its cited sources do not contain; each such sentence was shown
 * as the closest quote from the source instead (see `claims`).
 */
unverified: Array<UnsupportedClaim>, 
/**
 * What the model wrote before its sentences were checked (LLM mode; equals `answer` up to
 * citation clean-up when nothing was withheld).
 */
model_text?: string | null, 
/**
 * Where the time went, in milliseconds since the question arrived.
 */
timings: Timings, };

/**
 * Who wrote an answer: the language model, or the extractive path (passages or the FAQ entry quoted).
 */
export type AnswerMode = "llm" | "extractive";

/**
 * The language an answer is written in: the question's.
 */
export type Lang = "zh" | "en";

/**
 * A numbered source of an answer.
 */
export type Source = { 
/**
 * The number the answer cites it by, `[n]`.
 */
n: number, path: string, 
/**
 * Other paths with the same file content.
 */
also_at?: Array<string>, title: string, page: number | null, 
/**
 * The exact passage (for an FAQ entry: question and answer).
 */
text: string, kind: ChunkKind, doc_id: string, chunk_id: string, heading_path: Array<string>, 
/**
 * The FAQ row (1-based, header excluded) for "qa" sources from a spreadsheet export.
 */
row: number | null, score: number, };

/**
 * Milestones of one answer, in milliseconds since the question arrived. Time to first token splits
 * into `rewrite_ms` (follow-ups only) + `retrieval_ms` + prompt building + prefill.
 */
export type Timings = { 
/**
 * The query is ready (rewritten by the model for a follow-up).
 */
query_ms: number, 
/**
 * Retrieval finished.
 */
retrieval_ms: number, 
/**
 * The prompt's shared start was in the model's cache, and the prompt was rendered and fitted
 * to the context window (LLM mode).
 */
prompt_ms: number | null, 
/**
 * The first answer text appeared (the first sentence the claim gate released).
 */
first_token_ms: number | null, total_ms: number, 
/**
 * Tokens of the model's prompt (LLM mode).
 */
prompt_tokens?: number | null, 
/**
 * Of those, how many were still cached from the previous answer (the shared system prompt),
 * so prefill skipped them.
 */
reused_prompt_tokens?: number | null, };

/**
 * One fact of a sentence that its sources do not contain.
 */
export type UnsupportedClaim = { 
/**
 * The claim as the model wrote it: "两点", "5%", "“六险”", "Zoom".
 */
claim: string, 
/**
 * The sentence it was in.
 */
sentence: string, };

/**
 * A conversation as listed.
 */
export type ConversationListed = { id: string, title: string, 
/**
 * Unix seconds.
 */
updated_at: number, turns: number, };

/**
 * A stored conversation.
 */
export type Conversation = { id: string, 
/**
 * The first question, shortened.
 */
title: string, created_at: number, updated_at: number, turns: Array<Turn>, 
/**
 * The team-server user it belongs to (`serve --auth users`): only they see it. `None`: made
 * without users (the desktop app, the CLI, a one-person server).
 */
owner?: string | null, };

/**
 * One past exchange of a conversation.
 */
export type Turn = { question: string, 
/**
 * What was searched (the rewritten question for a follow-up).
 */
query: string, answer: string, sources: Array<Source>, grounded: boolean, 
/**
 * Who wrote the answer; `None` when DocTalk did not (a client's own history sent over the
 * OpenAI-compatible API).
 */
mode: AnswerMode | null, 
/**
 * Unix seconds.
 */
at: number, };

/**
 * A conversation deleted.
 */
export type ConversationDeleted = { deleted: string, };

/**
 * A folder to watch, with the file patterns it keeps and leaves out.
 */
export type AddFolderRequest = { path: string, include?: Array<string>, exclude?: Array<string>, };

/**
 * A folder now watched, and whether the watcher runs.
 */
export type FolderAdded = { folder: WatchedFolder, watching: boolean, };

/**
 * A folder no longer watched, and how many of its documents left the index.
 */
export type FolderRemoved = { folder: WatchedFolder, removed_paths: number, };

/**
 * A folder whose supported files the knowledge base follows.
 */
export type WatchedFolder = { 
/**
 * Canonical (absolute, symlinks resolved).
 */
path: string, 
/**
 * Globs over paths relative to the folder; empty means every supported file.
 */
include: Array<string>, 
/**
 * Globs over relative paths of files or folders left out.
 */
exclude: Array<string>, };

/**
 * A watched folder with what its files look like now, for listings.
 */
export type FolderStatus = { indexed: number, queued: number, failed: number, 
/**
 * False when the folder itself is gone or unreadable (its documents stay until it returns
 * or is removed from the list).
 */
available: boolean, 
/**
 * Every known file under the folder, by path.
 */
files: Array<FileState>, 
/**
 * Canonical (absolute, symlinks resolved).
 */
path: string, 
/**
 * Globs over paths relative to the folder; empty means every supported file.
 */
include: Array<string>, 
/**
 * Globs over relative paths of files or folders left out.
 */
exclude: Array<string>, };

/**
 * One file of a watched folder.
 */
export type FileState = { path: string, state: FileStateKind, reason?: string | null, size: number, 
/**
 * Modification time, nanoseconds since the Unix epoch.
 */
mtime_ns: number, 
/**
 * Status-change time (permissions, owner), where the platform has one; absent in caches
 * written before it was kept, and then not compared.
 */
ctime_ns?: number | null, 
/**
 * sha256 of the content, when it was read.
 */
hash?: string | null, doc_id?: string | null, };

export type FileStateKind = "indexed" | "queued" | "failed";

/**
 * What one pass did.
 */
export type SyncReport = { folders: Array<string>, 
/**
 * Folders that could not be listed (gone, unmounted): their documents were kept.
 */
unavailable: Array<string>, added: number, changed: number, moved: number, duplicates: number, removed: number, unchanged: number, failed: number, queued: number, 
/**
 * The ingest report of every file that was read this pass.
 */
files: Array<FileReport>, removed_paths: Array<string>, 
/**
 * Files left for a later pass (still being written).
 */
queued_paths: Array<string>, skipped: Array<SkippedFile>, elapsed_ms: number, };

/**
 * A path a pass left alone, and why.
 */
export type SkippedFile = { path: string, reason: string, };

/**
 * The settings screen: the saved settings, what is running, and what can be chosen.
 */
export type SettingsView = { data_dir: string, kb: string, language: LanguagePref, script: ScriptPref, model: ModelChoice, 
/**
 * The model answering now.
 */
model_loaded: string | null, model_status: ModelStatus, device: DeviceOptions, encoder: string, voice: VoiceChoice, catalogue: Array<CatalogueEntry>, 
/**
 * The user's LoRA adapters (kept in `adapters_dir`), for the local model's adapter choice.
 */
adapters: Array<AdapterEntry>, adapters_dir: string, voices: Array<VoiceEntry>, };

/**
 * The interface language: the system locale's (`auto`), Chinese or English; `"auto"`, `"zh"` or
 * `"en"` in the file and on the wire.
 */
export type LanguagePref = "auto" | "zh" | "en";

/**
 * The Chinese script of answers and transcripts: the system locale's (`auto`), 简体 (zh-CN) or
 * 繁體 (zh-TW/HK); `"auto"`, `"simplified"` or `"traditional"` in the file and on the wire.
 */
export type ScriptPref = "auto" | "simplified" | "traditional";

/**
 * Which language model answers.
 */
export type ModelChoice = { kind: ModelKind, 
/**
 * A model store name, for "local".
 */
id: string | null, 
/**
 * A model file or directory, for "local" (wins over `id`).
 */
path: string | null, 
/**
 * The endpoint, for "remote" (`http://host:port/v1`).
 */
url: string | null, 
/**
 * A LoRA adapter applied to the local model: a name in `<data dir>/adapters/` or a path.
 */
adapter: string | null, };

/**
 * The kind of language model that answers; `"local"`, `"remote"` or `"none"` in the file and on
 * the wire.
 */
export type ModelKind = "local" | "remote" | "none";

/**
 * Where a local model runs; `"cpu"` or `"cuda"` in the file and on the wire.
 */
export type Device = "cpu" | "cuda";

export type VoiceChoice = { 
/**
 * Speak answers aloud.
 */
enabled: boolean, 
/**
 * A voice id from `doctalk voices list`; `None`: the default voice per language.
 */
voice: string | null, };

/**
 * A change of settings: any subset of them, a nested object changing only the fields it names
 * (`null` clears an optional one). Fields it does not know (the read-only ones `settings`
 * returns, sent back with the rest) are passed over.
 */
export type SettingsPatch = { language?: LanguagePref, script?: ScriptPref, model?: ModelPatch, device?: DevicePatch, voice?: VoicePatch, };

/**
 * Part of [`ModelChoice`]: an absent field stays, `null` clears it.
 */
export type ModelPatch = { kind?: ModelKind, id?: string | null, path?: string | null, url?: string | null, adapter?: string | null, };

/**
 * The device as saved (`"cuda"`) or as `settings` shows it (`{"current": "cuda", …}`).
 */
export type DevicePatch = Device | { current: Device, };

/**
 * Part of [`VoiceChoice`].
 */
export type VoicePatch = { enabled?: boolean, voice?: string | null, };

/**
 * The saved device and those this build can run on.
 */
export type DeviceOptions = { current: Device, available: Array<Device>, };

/**
 * The language model's state and the model answering now: a change loads in the background
 * while the old model answers.
 */
export type ModelStatus = { 
/**
 * The model answering now.
 */
model: string | null, } & ({ "state": "off" } | { "state": "ready" } | { "state": "loading", choice: string, } | { "state": "failed", message: string, });

/**
 * Where the model stands, as the settings screen shows it.
 */
export type ModelState = { "state": "off" } | { "state": "ready" } | { "state": "loading", choice: string, } | { "state": "failed", message: string, };

/**
 * A model of the catalogue, with its licence and size shown before any download.
 */
export type CatalogueEntry = { id: string, kind: string, license: string, license_url: string, 
/**
 * The files' size (null: a source that does not say).
 */
size_bytes: number | null, installed: boolean, description: string, languages: Array<string>, 
/**
 * A chat model's scores on DocTalk's labelled questions (rates in 0..1).
 */
measured: AnswerScores | null, };

/**
 * A chat model's scores on `examples/eval/answers.jsonl`, as `doctalk bench answers --llm-only`
 * reported them (rates in 0..=1), and where they were measured.
 */
export type AnswerScores = { 
/**
 * The question set, e.g. "examples/eval/answers.jsonl: 86 questions, 4 documents".
 */
set: string, 
/**
 * The machine and build, e.g. "2 vCPU AMD EPYC (AVX-512), dev build".
 */
machine: string, date: string, 
/**
 * The answer states the expected fact and cites a passage holding it (answerable questions).
 */
fact_and_citation: number, 
/**
 * The same answers as the model wrote them, before claim checking.
 */
fact_and_citation_before_checking: number, 
/**
 * Unanswerable questions refused.
 */
refusals: number, 
/**
 * Answerable questions refused.
 */
false_refusals: number, 
/**
 * Median time from the question to the first shown (checked) sentence.
 */
first_text_p50_ms: number, };

/**
 * One adapter found in [`dir`].
 */
export type AdapterEntry = { name: string, path: string, 
/**
 * "peft" or "gguf"; `None` when it cannot be read.
 */
format: string | null, 
/**
 * How many linear layers it changes.
 */
layers: number, 
/**
 * The model it was made for, when it says.
 */
base_model: string | null, 
/**
 * Why it cannot be used, when it cannot.
 */
error: string | null, };

/**
 * A voice answers can be read in.
 */
export type VoiceEntry = { id: string, 
/**
 * `espeak-ng`, `piper` or `cloned`.
 */
kind: 'espeak-ng' | 'piper' | 'cloned', 
/**
 * How it speaks (for cloned voices: the neural converter or tone matching).
 */
engine: string, languages: Array<string>, license: string, available: boolean, 
/**
 * Why it cannot speak on this machine.
 */
reason: string | null, };

/**
 * A model downloaded into the model store.
 */
export type Downloaded = { id: string, path: string, };

/**
 * First run: `ready` once every required model is on this computer.
 */
export type SetupStatus = { ready: boolean, models: Array<SetupModel>, 
/**
 * Where model folders copied by hand are found (computers without internet).
 */
models_dir: string | null, };

/**
 * Whether the app cannot start without a model, or recommends it.
 */
export type SetupRole = "required" | "recommended";

/**
 * A model the app needs before it can start (required) or recommends (the default LLM).
 */
export type SetupModel = { id: string, role: SetupRole, installed: boolean, 
/**
 * Whether the model store can download it (it has a hub source).
 */
downloadable: boolean, license: string, license_url: string, 
/**
 * What the download brings (null: not known until it starts).
 */
size_bytes: number | null, kind: string, description: string, };

/**
 * A spoken question as Whisper heard it.
 */
export type Transcript = { text: string, 
/**
 * The language heard (or the one asked for); null when nothing was heard.
 */
language: string | null, audio_seconds: number, transcribe_ms: number, };

/**
 * A cloned voice just made (the `done` of adding one).
 */
export type VoiceAdded = { voice: ClonedVoice, };

/**
 * A cloned voice as made from a recording.
 */
export type ClonedVoice = { id: string, base_voice: string, speech_seconds: number, engine: CloneEngine, 
/**
 * How it speaks, in words.
 */
description: string | null, 
/**
 * What was not ideal about the recording (short, noisy, clipped).
 */
warnings: Array<string>, };

/**
 * How a cloned voice speaks: through the neural tone converter, or by matching the recording's
 * pitch and timbre where the converter is not installed.
 */
export type CloneEngine = "neural" | "tone-matching";

/**
 * A cloned voice deleted; `voice_reset`: it was the chosen voice, and answers are read in the
 * default voice again.
 */
export type VoiceRemoved = { removed: string, voice_reset: boolean, };

/**
 * The summary, and why the language model did not write it when one was wanted.
 */
export type SummaryOutcome = { fallback_reason: string | null, doc_id: string, title: string, path: string, lang: Lang, mode: AnswerMode, model: string | null, 
/**
 * The summary, with `[n]` citations of `sources`.
 */
summary: string, sources: Array<Source>, 
/**
 * Claims the model made that its cited passages do not hold (shown replaced by a quote).
 */
unverified: Array<UnsupportedClaim>, 
/**
 * The passages read, of how many the document has.
 */
passages_read: number, passages_total: number, 
/**
 * Stopped by the user: `summary` holds what was done.
 */
cancelled: boolean, };

export type Summary = { doc_id: string, title: string, path: string, lang: Lang, mode: AnswerMode, model: string | null, 
/**
 * The summary, with `[n]` citations of `sources`.
 */
summary: string, sources: Array<Source>, 
/**
 * Claims the model made that its cited passages do not hold (shown replaced by a quote).
 */
unverified: Array<UnsupportedClaim>, 
/**
 * The passages read, of how many the document has.
 */
passages_read: number, passages_total: number, 
/**
 * Stopped by the user: `summary` holds what was done.
 */
cancelled: boolean, };

/**
 * One step done, for a progress bar: batches summarised (`total` includes the combining step).
 */
export type SummaryProgress = { done: number, total: number, };

/**
 * What the app sends: the questions as a list, or as the JSON Lines text of a question file.
 */
export type CheckRequest = { questions?: Array<QaCase>, 
/**
 * A question file's text (`{"q": …, "expect_any": […]}` per line), as `bench answers` reads.
 */
jsonl?: string, 
/**
 * Measure the extractive mode beside the model (default: yes).
 */
extractive?: boolean, 
/**
 * Measure the language model (default: yes, when one is loaded and free).
 */
llm?: boolean, };

/**
 * One question and what a right answer must contain.
 */
export type QaCase = { q: string, 
/**
 * A right answer states at least one of these.
 */
expect_any?: Array<string>, 
/**
 * The file the fact is in (a file name or a part of the path), when known.
 */
source?: string, 
/**
 * The documents do not answer this: the right answer is a refusal.
 */
unanswerable?: boolean, };

/**
 * One question answered, for a progress bar.
 */
export type CheckProgress = { mode: string, 
/**
 * Answers finished so far, over all modes.
 */
done: number, total: number, q: string, right: boolean, };

/**
 * The report, and why the language model was not measured when it was asked for.
 */
export type CheckOutcome = { without_llm: string | null, modes: Array<ModeReport>, questions: Array<QuestionReport>, 
/**
 * The run was stopped: the totals cover the questions answered before that.
 */
stopped: boolean, };

/**
 * Everything a run found: totals per mode, and each question's answers.
 */
export type CheckReport = { modes: Array<ModeReport>, questions: Array<QuestionReport>, 
/**
 * The run was stopped: the totals cover the questions answered before that.
 */
stopped: boolean, };

export type ModeReport = { mode: string, 
/**
 * The model that answered (LLM mode).
 */
model: string | null, totals: Totals, 
/**
 * The same answers scored as the model wrote them, before claim checking (LLM mode).
 */
before_checking: Totals | null, };

/**
 * Totals over a set of scored cases, as rates in 0..=1 (None when no case counts toward one).
 */
export type Totals = { questions: number, answerable: number, unanswerable: number, 
/**
 * Answerable questions whose answer states the fact.
 */
fact_rate: number | null, 
/**
 * Answerable questions whose answer cites a passage holding the fact.
 */
citation_rate: number | null, 
/**
 * Both: the figure that matters.
 */
fact_and_citation_rate: number | null, 
/**
 * Unanswerable questions refused.
 */
refusal_rate: number | null, 
/**
 * Answerable questions refused.
 */
false_refusal_rate: number | null, 
/**
 * Answerable questions answered with a wrong figure (see [`CaseScore::wrong_figure`]).
 */
wrong_figure_rate: number | null, 
/**
 * Answers in which the claim checker withheld something.
 */
answers_with_unverified: number, first_token_ms_p50: number | null, };

export type QuestionReport = { q: string, unanswerable: boolean, expect_any: Array<string>, source: string | null, 
/**
 * One per mode that reached this question, in the order of `CheckReport::modes`.
 */
answers: Array<ModeAnswer>, };

/**
 * How one mode answered one question.
 */
export type ModeAnswer = { mode: string, right: boolean, fact: boolean, cited_right: boolean, refused: boolean, answer: string, 
/**
 * How it was really answered ("extractive" when the model was not used, with the reason).
 */
answered_as: string, fallback_reason: string | null, 
/**
 * Claims the claim checker withheld.
 */
unverified: Array<UnsupportedClaim>, 
/**
 * The cited passages' files and pages.
 */
cited: Array<CitedFile>, first_token_ms: number | null, 
/**
 * The answer as the model wrote it, scored before claim checking (LLM mode).
 */
before_checking: BeforeChecking | null, 
/**
 * Whether the search counted as evidence, and the numbers that decided it (for finding why a
 * question was refused or answered).
 */
grounded: boolean, evidence: Evidence, };

export type CitedFile = { n: number, path: string, page: number | null, };

export type BeforeChecking = { right: boolean, fact: boolean, cited_right: boolean, refused: boolean, answer: string, };

/**
 * What the app may change of a run; everything else is `TuneConfig::default()`, as for
 * `doctalk tune`.
 */
export type TuneRequest = { 
/**
 * Continue the checkpoint a stopped run left (the estimate says whether there is one).
 */
resume?: boolean, 
/**
 * Discard a checkpoint left by a stopped run and start over.
 */
restart?: boolean, 
/**
 * Passes over the pairs (default 3).
 */
epochs?: number, 
/**
 * Stop after this many steps, whatever the epochs say.
 */
max_steps?: number, 
/**
 * Other ways of asking each question, written by the model first (default 0).
 */
paraphrases?: number, };

/**
 * What the app shows before a run: the knowledge base's pairs, the model, the adapter's name and
 * whether it replaces one, and the estimate.
 */
export type TunePlan = { kb: string, pairs: number, 
/**
 * The adapter's name in settings, and its directory.
 */
adapter_name: string, adapter_path: string, 
/**
 * An adapter of that name exists and a finished run replaces it.
 */
replaces: boolean, base: string, train_pairs: number, validation_pairs: number, too_long: number, steps: number, 
/**
 * Where a resumed run would start: the step of a checkpoint in the output directory that
 * belongs to this run (same base, settings and pairs).
 */
resumable_at: number | null, 
/**
 * Why a checkpoint in the output directory cannot be resumed (another run's, or unreadable):
 * a run must start over, which discards it.
 */
checkpoint_conflict: string | null, 
/**
 * Training speed measured on one step of a typical example, in tokens per second.
 */
tokens_per_second: number, 
/**
 * The model writing other ways of asking (`TuneConfig::paraphrases`; 0 without). With
 * rewrites, `train_pairs` and `steps` count each trained entry's as if all were usable.
 */
paraphrase_seconds: number, 
/**
 * Reading the model and the pairs, the steps still to do, and the held-out loss before and after.
 */
training_seconds: number, 
/**
 * Answering the held-out questions with the base and the tuned model (0 without `compare`).
 */
comparison_seconds: number, seconds: number, };

/**
 * What a run of [`tune`] would do, and about how long it would take on this machine.
 */
export type TuneEstimate = { base: string, train_pairs: number, validation_pairs: number, too_long: number, steps: number, 
/**
 * Where a resumed run would start: the step of a checkpoint in the output directory that
 * belongs to this run (same base, settings and pairs).
 */
resumable_at: number | null, 
/**
 * Why a checkpoint in the output directory cannot be resumed (another run's, or unreadable):
 * a run must start over, which discards it.
 */
checkpoint_conflict: string | null, 
/**
 * Training speed measured on one step of a typical example, in tokens per second.
 */
tokens_per_second: number, 
/**
 * The model writing other ways of asking (`TuneConfig::paraphrases`; 0 without). With
 * rewrites, `train_pairs` and `steps` count each trained entry's as if all were usable.
 */
paraphrase_seconds: number, 
/**
 * Reading the model and the pairs, the steps still to do, and the held-out loss before and after.
 */
training_seconds: number, 
/**
 * Answering the held-out questions with the base and the tuned model (0 without `compare`).
 */
comparison_seconds: number, seconds: number, };

/**
 * What a run reports as it goes.
 */
export type TuneEvent = { "event": "prepared", train: number, validation: number, 
/**
 * Left out for being longer than `max_tokens`.
 */
too_long: number, steps: number, resumed_at: number, } | { "event": "paraphrasing", done: number, total: number, } | { "event": "validated", when: 'before' | 'after', loss: number, } | { "event": "step", step: number, steps: number, loss: number, elapsed_s: number, 
/**
 * Time left at the pace so far.
 */
eta_s: number, } | { "event": "checkpoint", step: number, } | { "event": "comparing", done: number, total: number, };

/**
 * The end of a run.
 */
export type TuneOutcome = { 
/**
 * The adapter's name in settings (`adapter` is its directory).
 */
adapter_name: string, 
/**
 * The settings use this adapter now (the model was reloaded with the new one).
 */
in_use: boolean, 
/**
 * The adapter directory (PEFT format).
 */
adapter: string, base: string, train_pairs: number, validation_pairs: number, too_long: number, 
/**
 * The model's rewrites of the questions that were trained on (among `train_pairs`).
 */
paraphrases: Array<Paraphrase>, 
/**
 * Steps done, including those of an earlier run that this one resumed.
 */
steps: number, resumed_at: number, 
/**
 * Stopped by the caller before the last step (the checkpoint holds the progress).
 */
stopped: boolean, 
/**
 * Mean training loss over the last (up to) `train_pairs` steps.
 */
train_loss: number | null, validation_loss_before: number | null, validation_loss_after: number | null, 
/**
 * Base against tuned on the held-out questions (when asked for, there are some, and it was
 * not stopped).
 */
comparison: Comparison | null, 
/**
 * Why the comparison could not be made (the adapter is written all the same).
 */
comparison_error: string | null, 
/**
 * Tokens trained on per second (prompt and answer; the steps' time only).
 */
tokens_per_second: number | null, seconds: number, config: TuneConfig, };

/**
 * The outcome of [`tune`].
 */
export type TuneReport = { 
/**
 * The adapter directory (PEFT format).
 */
adapter: string, base: string, train_pairs: number, validation_pairs: number, too_long: number, 
/**
 * The model's rewrites of the questions that were trained on (among `train_pairs`).
 */
paraphrases: Array<Paraphrase>, 
/**
 * Steps done, including those of an earlier run that this one resumed.
 */
steps: number, resumed_at: number, 
/**
 * Stopped by the caller before the last step (the checkpoint holds the progress).
 */
stopped: boolean, 
/**
 * Mean training loss over the last (up to) `train_pairs` steps.
 */
train_loss: number | null, validation_loss_before: number | null, validation_loss_after: number | null, 
/**
 * Base against tuned on the held-out questions (when asked for, there are some, and it was
 * not stopped).
 */
comparison: Comparison | null, 
/**
 * Why the comparison could not be made (the adapter is written all the same).
 */
comparison_error: string | null, 
/**
 * Tokens trained on per second (prompt and answer; the steps' time only).
 */
tokens_per_second: number | null, seconds: number, config: TuneConfig, };

/**
 * Training settings; [`TuneConfig::default`] holds the defaults `doctalk tune` uses.
 */
export type TuneConfig = { 
/**
 * LoRA rank.
 */
rank: number, 
/**
 * LoRA alpha: the change is scaled by `alpha / rank`.
 */
alpha: number, learning_rate: number, 
/**
 * Passes over the training pairs.
 */
epochs: number, 
/**
 * Stop after this many steps (one pair per step), whatever the epochs say.
 */
max_steps: number | null, 
/**
 * Pairs longer than this (prompt + answer, in tokens) are left out.
 */
max_tokens: number, 
/**
 * Share of the pairs held out for validation (at least one when there are 4 or more).
 */
validation_fraction: number, 
/**
 * Seeds the split, the order and the starting matrices: the same seed gives the same adapter.
 */
seed: number, 
/**
 * Steps between checkpoints.
 */
checkpoint_every: number, 
/**
 * After training, answer the held-out questions with the base and with the adapter.
 */
compare: boolean, 
/**
 * Before training, have the model write this many other ways of asking each FAQ entry's
 * question, trained on with its answer (0: none).
 */
paraphrases: number, };

/**
 * How base and tuned answered the held-out questions.
 */
export type Comparison = { questions: number, 
/**
 * Answers equal to the FAQ's once spacing, punctuation and case are set aside.
 */
base_exact: number, tuned_exact: number, 
/**
 * Mean character F1 against the FAQ's answer (0–1): partial credit, fair to Chinese.
 */
base_overlap: number, tuned_overlap: number, answers: Array<Compared>, };

export type Compared = { question: string, expected: string, base: string, tuned: string, };

/**
 * One rewrite the model made.
 */
export type Paraphrase = { 
/**
 * The question it rewrites (a trained phrasing of its entry).
 */
of: string, text: string, };

/**
 * How the server asks who is calling: not at all, one shared token, or users with their own.
 */
export type AuthKind = "none" | "token" | "users";

/**
 * Who the caller is (`/api/me`); the UI hides what they may not do.
 */
export type Me = { auth: AuthKind, 
/**
 * Null for the one local person (no users).
 */
name: string | null, role: Role, kbs: Array<string>, all_kbs: boolean, 
/**
 * Unix seconds (users only).
 */
created_at?: number, };

/**
 * What a user may do. Each role may do everything the ones before it may.
 */
export type Role = "reader" | "editor" | "admin";

/**
 * A user as listed to an admin: never their token or its hash.
 */
export type PublicUser = { name: string, role: Role, 
/**
 * The knowledge bases they may use (`all_kbs`: every one).
 */
kbs: Array<string>, all_kbs: boolean, 
/**
 * Unix seconds.
 */
created_at: number, };

/**
 * A new user, as the admin page and `doctalk users add` send it.
 */
export type NewUser = { name: string, role: Role, 
/**
 * The knowledge bases they may use; empty: every one.
 */
kbs?: Array<string>, };

/**
 * A user just made or given a new token: the token is shown this once.
 */
export type IssuedToken = { user: PublicUser, token: string, };

/**
 * A user removed.
 */
export type UserRemoved = { removed: string, };
