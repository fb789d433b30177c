// The server's JSON shapes (see the API contract). The Tauri commands return the same objects, so
// these types are shared by both transports. Fields the UI never reads are left out or typed loosely
// on purpose: the server may add fields without breaking the UI.

export interface Health {
  status: 'ok';
  documents: number;
  encoder: string;
  model: string | null;
  kb: string;
  version: string;
}

export interface KbList {
  current: string;
  kbs: { name: string; documents: number }[];
}

export interface DocumentInfo {
  id: string;
  path: string;
  /** Other paths with the same content (identical copies are one document). */
  also_at?: string[];
  title: string;
  /** "pdf", "csv", "xlsx", "markdown", "text", "html", "docx", … */
  format: string;
  pages: number | null;
  chunks: number;
  size_bytes: number;
  embedding_model: string;
  ingested_at_ms: number;
}

export interface Diagnostic {
  code: string;
  message: string;
  page: number | null;
}

/** How a document's pages are read: OCR where the text layer is missing or garbled (`auto`), every
 *  page from its picture (`always`), or the text layer only (`never`). */
export type OcrChoice = 'auto' | 'always' | 'never';

export type FileStatus = 'indexed' | 'unchanged' | 'failed' | 'moved' | 'duplicate';

export interface FileReport {
  path: string;
  status: FileStatus;
  doc_id: string | null;
  pages: number | null;
  chunks: number;
  diagnostics: Diagnostic[];
}

export type IngestStage =
  | { stage: 'parse' }
  | { stage: 'embed'; done: number; total: number; eta_s?: number | null }
  | { stage: 'ocr'; done: number; total: number }
  | { stage: 'commit' };

/** The data of an ingest stream's `progress` event. */
export type IngestProgress =
  | { event: 'file_started'; path: string; index: number; total: number }
  | { event: 'stage'; path: string; stage: IngestStage }
  | ({ event: 'file_finished' } & FileReport);

/** The data of an ingest stream's `done` event. */
export interface IngestDone {
  files: FileReport[];
}

export type SourceKind = 'passage' | 'qa';

export interface Source {
  /** The number the answer cites it by: `[n]`. */
  n: number;
  path: string;
  title: string;
  page: number | null;
  /** The exact passage; for an FAQ entry the question, a newline, then the answer. */
  text: string;
  kind: SourceKind;
  doc_id: string;
  chunk_id: string;
  heading_path: string[];
  /** FAQ row (1-based, header excluded) for spreadsheet exports. */
  row: number | null;
  score: number;
}

export interface SearchHit {
  rank: number;
  chunk_id: string;
  doc_id: string;
  path: string;
  title: string;
  page: number | null;
  kind: SourceKind;
  text: string;
  heading_path: string[];
  questions: string[];
  answer: string | null;
  /** Cosine similarity plus BM25's share (and the identifiers' bonus): what the order follows. */
  fused_score?: number;
  dense?: ComponentScore | null;
  bm25?: ComponentScore | null;
  /** Similarity to a stored FAQ question that matched near-exactly (ranked first). */
  faq_match?: number | null;
  /** The passage holds every identifier of the query (error codes, product names). */
  identifier_match?: boolean;
  /** The knowledge base it comes from, in a search across several. */
  kb?: string;
}

/** One retrieval component's view of a hit: its rank in that component's list and its score. */
export interface ComponentScore {
  rank: number;
  score: number;
}

/** The numbers an answer's "is it in the documents?" decision is made on. */
export interface Evidence {
  top_dense_score: number | null;
  top_bm25_score: number | null;
  faq_match: number | null;
  /** The cosine a grounded answer needs (null: the encoder is not calibrated). */
  threshold: number | null;
  /** The largest share of the question's key terms one passage holds. */
  key_terms: number | null;
}

/** The retrieval test: a search with every number behind its order, and the answer's view. */
export interface Explanation {
  query: string;
  bm25_weight: number;
  identifiers: string[];
  identifier_bonus: number;
  hits: SearchHit[];
  evidence: Evidence;
  /** Whether an answer would use the passages (false: "not found in your documents"). */
  grounded: boolean;
  /** How many of the first hits an answer offers the language model. */
  offered: number;
}

export interface Answer {
  answer: string;
  sources: Source[];
  query: string;
  grounded: boolean;
  mode: 'llm' | 'extractive';
  lang: 'zh' | 'en';
  cited: number[];
  invalid_citations: number[];
  /** The model read the scoped documents whole instead of retrieved passages. */
  whole_document?: boolean;
  fallback_reason: string | null;
  model: string | null;
  cancelled: boolean;
  /** Facts the model wrote that its cited sources do not contain (those sentences show the source's words). */
  unverified?: { claim: string; sentence: string }[];
  timings: Record<string, number | null>;
  conversation: string | null;
}

export interface AskRequest {
  question: string;
  /** A conversation id, or "new" to start one. */
  conversation?: string;
  no_llm?: boolean;
  top_k?: number;
  /** Only these documents (ids) or folders; none: the whole knowledge base. */
  scope?: { docs?: string[]; folders?: string[] };
}

export interface ConversationSummary {
  id: string;
  title: string;
  /** Unix seconds. */
  updated_at: number;
  turns: number;
}

/** A stored turn. Only `question` and `answer` are guaranteed; the rest is read defensively. */
export interface Turn {
  question: string;
  answer: string;
  query?: string;
  sources?: Source[];
  mode?: string;
  grounded?: boolean;
}

export interface Conversation {
  id: string;
  title: string;
  turns: Turn[];
}

export type ModelKind = 'local' | 'remote' | 'none';

export interface CatalogueEntry {
  id: string;
  kind: string;
  license: string;
  size_bytes: number;
  installed: boolean;
  description: string;
  /** A chat model's scores on DocTalk's labelled questions (rates in 0..1). */
  measured?: ModelScores | null;
}

export interface ModelScores {
  set: string;
  machine: string;
  date: string;
  fact_and_citation: number;
  fact_and_citation_before_checking: number;
  refusals: number;
  false_refusals: number;
  first_text_p50_ms: number;
}

export interface VoiceInfo {
  id: string;
  /** `espeak-ng`, `piper` or `cloned`. */
  kind?: string;
  /** How it speaks (for cloned voices: the neural converter or tone matching). */
  engine?: string;
  languages: string[];
  license: string;
  available: boolean;
}

/** A spoken question as Whisper heard it. */
export interface Transcript {
  text: string;
  language: string;
  audio_seconds: number;
  transcribe_ms: number;
}

/** The `done` payload of adding a cloned voice. */
export interface VoiceAdded {
  voice: {
    id: string;
    base_voice: string;
    speech_seconds: number;
    engine: 'neural' | 'tone-matching';
    description?: string | null;
    warnings: string[];
  };
}

export type LanguagePref = 'auto' | 'zh' | 'en';

/** The Chinese script of answers and transcripts: 简体, 繁體, or the system locale's. */
export type ScriptPref = 'auto' | 'simplified' | 'traditional';

export interface Settings {
  data_dir: string;
  kb: string;
  language: LanguagePref;
  script?: ScriptPref;
  model: { kind: ModelKind; id: string | null; path: string | null; url: string | null; adapter?: string | null };
  device: { current: string; available: string[] };
  encoder: string;
  voice: { enabled: boolean; voice: string | null };
  model_loaded: string | null;
  model_status: ModelStatus;
  catalogue: CatalogueEntry[];
  /** The user's LoRA adapters (kept in `adapters_dir`); older servers send none. */
  adapters?: AdapterEntry[];
  adapters_dir?: string;
  voices: VoiceInfo[];
}

/** A LoRA adapter for the local model: a PEFT directory or a llama.cpp .gguf adapter. */
export interface AdapterEntry {
  name: string;
  path: string;
  format: 'peft' | 'gguf' | null;
  layers: number;
  base_model: string | null;
  /** Why it cannot be used. */
  error: string | null;
}

/** What PUT /api/settings takes: any subset, nested objects partially too. */
export interface SettingsPatch {
  kb?: string;
  language?: LanguagePref;
  script?: ScriptPref;
  model?: Partial<Settings['model']>;
  device?: { current?: string };
  voice?: Partial<Settings['voice']>;
}

/** The language model's state: a change loads in the background while the old model answers. */
export interface ModelStatus {
  state: 'off' | 'ready' | 'loading' | 'failed';
  /** The model answering now. */
  model: string | null;
  /** What is loading (state "loading"). */
  choice?: string;
  /** Why the last choice could not be loaded (state "failed"). */
  message?: string;
}

export interface DownloadProgress {
  downloaded: number;
  total: number | null;
}

export interface DownloadDone {
  id: string;
  path: string;
}

/** A model the app needs before it can start (required) or recommends (the default LLM). */
export interface SetupModel {
  id: string;
  role: 'required' | 'recommended';
  installed: boolean;
  /** Whether the model store can download it (it has a hub source). */
  downloadable: boolean;
  license: string;
  license_url: string | null;
  /** What the download brings; null when only the download itself will tell. */
  size_bytes: number | null;
  kind: string;
  description: string;
}

/** First run: `ready` once every required model is on this computer. */
export interface SetupStatus {
  ready: boolean;
  models: SetupModel[];
  /** Where model folders copied by hand are found (computers without internet). */
  models_dir: string | null;
}

// ---- "Check answers" (the server's doctalk_core::answer_check report) ----

/** One question and the facts a right answer states (or `unanswerable`). */
export interface QaCase {
  q: string;
  expect_any?: string[];
  source?: string | null;
  unanswerable?: boolean;
}

export interface CheckRequest {
  questions?: QaCase[];
  /** A question file's text, one JSON object per line (as `doctalk bench answers` reads). */
  jsonl?: string;
  llm?: boolean;
  extractive?: boolean;
}

export interface CheckProgress {
  mode: string;
  done: number;
  total: number;
  q: string;
  right: boolean;
}

/** Rates in 0..1; null when no question counts toward one. */
export interface CheckTotals {
  questions: number;
  answerable: number;
  unanswerable: number;
  fact_rate: number | null;
  citation_rate: number | null;
  fact_and_citation_rate: number | null;
  refusal_rate: number | null;
  false_refusal_rate: number | null;
  /** Answerable questions answered with a wrong figure (a contradiction, not a gap). */
  wrong_figure_rate?: number | null;
  answers_with_unverified: number;
  first_token_ms_p50: number | null;
}

export interface CheckModeReport {
  mode: string;
  model: string | null;
  totals: CheckTotals;
  before_checking: CheckTotals | null;
}

export interface CheckAnswer {
  mode: string;
  right: boolean;
  fact: boolean;
  cited_right: boolean;
  refused: boolean;
  answer: string;
  answered_as: string;
  fallback_reason: string | null;
  unverified: { claim: string; sentence: string }[];
  cited: { n: number; path: string; page: number | null }[];
  first_token_ms: number | null;
}

export interface CheckReport {
  modes: CheckModeReport[];
  questions: { q: string; unanswerable: boolean; expect_any: string[]; source: string | null; answers: CheckAnswer[] }[];
  stopped: boolean;
  /** Why the language model was not measured although it was asked for. */
  without_llm: string | null;
}

// ---- whole-document summaries ----

export type SummaryLength = 'short' | 'long';

export interface SummaryProgress {
  done: number;
  total: number;
}

export interface DocumentSummary {
  doc_id: string;
  title: string;
  path: string;
  lang: 'zh' | 'en';
  mode: 'llm' | 'extractive';
  model: string | null;
  /** The summary, one point per line, with [n] citations of `sources`. */
  summary: string;
  sources: Source[];
  unverified: { claim: string; sentence: string }[];
  passages_read: number;
  passages_total: number;
  cancelled: boolean;
  fallback_reason: string | null;
}

/** A file of a watched folder and how it stands. */
export interface WatchedFile {
  path: string;
  state: 'indexed' | 'queued' | 'failed';
  reason?: string | null;
  size: number;
}

/** A folder the knowledge base follows, with counts of its files' states. */
export interface WatchedFolder {
  path: string;
  include: string[];
  exclude: string[];
  indexed: number;
  queued: number;
  failed: number;
  /** False when the folder is gone (an unplugged drive): its documents are kept. */
  available: boolean;
  /** Failed files only, unless every file was asked for. */
  files: WatchedFile[];
}

/** What one sync pass did. */
export interface SyncReport {
  added: number;
  changed: number;
  moved: number;
  duplicates: number;
  removed: number;
  unchanged: number;
  failed: number;
  queued: number;
  elapsed_ms: number;
}

/** A team-server user's role: readers search and ask, editors also change documents, admins all. */
export type Role = 'reader' | 'editor' | 'admin';

/** Who the UI is talking as (`/api/me`). `auth` says how the server asks: not at all, one shared
 * token, or users with their own tokens (then the admin page is shown to admins). */
export interface Me {
  auth: 'none' | 'token' | 'users';
  name: string | null;
  role: Role;
  kbs: string[];
  all_kbs: boolean;
}

/** A user as listed (never their token). */
export interface TeamUser {
  name: string;
  role: Role;
  kbs: string[];
  all_kbs: boolean;
  created_at: number;
}

/** A user just made or given a new token: the token is shown this once. */
export interface IssuedToken {
  user: TeamUser;
  token: string;
}

// ---- fine-tuning ("Train on this knowledge base") ----

/** What the app may choose of a run; the rest are `doctalk tune`'s defaults. */
export interface TuneRequest {
  /** Continue the checkpoint a stopped run left. */
  resume?: boolean;
  /** Discard that checkpoint and start over. */
  restart?: boolean;
  epochs?: number;
  max_steps?: number;
  /** Other ways of asking each question, written by the model before training. */
  paraphrases?: number;
}

/** A run before it starts: the knowledge base's pairs, the model, and the measured estimate. */
export interface TunePlan {
  kb: string;
  pairs: number;
  base: string;
  /** The adapter's name in settings, and its directory. */
  adapter_name: string;
  adapter_path: string;
  /** A finished run replaces an adapter of that name. */
  replaces: boolean;
  train_pairs: number;
  validation_pairs: number;
  too_long: number;
  steps: number;
  /** A stopped run's checkpoint: the step a resumed run starts at. */
  resumable_at: number | null;
  /** Why a checkpoint there cannot be resumed (a run must start over). */
  checkpoint_conflict: string | null;
  tokens_per_second: number;
  paraphrase_seconds: number;
  training_seconds: number;
  comparison_seconds: number;
  seconds: number;
}

/** The training's own progress events. */
export type TuneProgress =
  | { event: 'prepared'; train: number; validation: number; too_long: number; steps: number; resumed_at: number }
  | { event: 'paraphrasing'; done: number; total: number }
  | { event: 'validated'; when: 'before' | 'after'; loss: number }
  | { event: 'step'; step: number; steps: number; loss: number; elapsed_s: number; eta_s: number }
  | { event: 'checkpoint'; step: number }
  | { event: 'comparing'; done: number; total: number };

export interface TuneComparison {
  questions: number;
  base_exact: number;
  tuned_exact: number;
  /** Mean character F1 against the FAQ's answer, 0–1. */
  base_overlap: number;
  tuned_overlap: number;
  answers: { question: string; expected: string; base: string; tuned: string }[];
}

/** The end of a run. */
export interface TuneOutcome {
  /** The adapter's name in settings (`adapter` is its directory). */
  adapter_name: string;
  adapter: string;
  /** The settings already used this adapter: the model was reloaded with the new one. */
  in_use: boolean;
  train_pairs: number;
  validation_pairs: number;
  /** The model's rewrites of the questions that were trained on. */
  paraphrases: { of: string; text: string }[];
  steps: number;
  stopped: boolean;
  train_loss: number | null;
  validation_loss_before: number | null;
  validation_loss_after: number | null;
  comparison: TuneComparison | null;
  comparison_error: string | null;
  seconds: number;
}
