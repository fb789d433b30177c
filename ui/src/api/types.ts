// The server's JSON shapes. The Tauri commands return the same objects, so these types are shared
// by both transports. Most are generated from the Rust types (./generated.ts, checked by
// `cargo test -p doctalk-app --test typescript`); the names the UI uses for some differ.

export type {
  AdapterEntry,
  AskRequest,
  CatalogueEntry,
  ComponentScore,
  Device,
  Conversation,
  DocumentInfo,
  Evidence,
  Explanation,
  FileReport,
  FileStatus,
  Health,
  IngestDone,
  IngestStage,
  IssuedToken,
  KbList,
  LanguagePref,
  Me,
  ModelKind,
  ModelStatus,
  Role,
  ScopeRequest,
  ScriptPref,
  SearchHit,
  SetupModel,
  SetupStatus,
  Source,
  SyncReport,
  Transcript,
  Turn,
  UnsupportedClaim,
  VoiceAdded,
} from './generated';
export type {
  AnswerScores as ModelScores,
  AskReply as Answer,
  ChunkKind as SourceKind,
  ConversationListed as ConversationSummary,
  Downloaded as DownloadDone,
  FileState as WatchedFile,
  FolderStatus as WatchedFolder,
  IngestEvent as IngestProgress,
  PublicUser as TeamUser,
  ReportedDiagnostic as Diagnostic,
  SettingsView as Settings,
  VoiceEntry as VoiceInfo,
} from './generated';
/** What PUT /api/settings takes: any subset, nested objects partially too (`null` clears). */
export type { SettingsPatch } from './generated';

/** How a document's pages are read: OCR where the text layer is missing or garbled (`auto`), every
 *  page from its picture (`always`), or the text layer only (`never`). */
export type OcrChoice = 'auto' | 'always' | 'never';


export interface DownloadProgress {
  downloaded: number;
  total: number | null;
}

// ---- "Check answers", summaries and fine-tuning (generated as well) ----

export type {
  CheckProgress,
  CheckRequest,
  QaCase,
  SummaryProgress,
  TuneOutcome,
  TunePlan,
  TuneRequest,
} from './generated';
export type {
  CheckOutcome as CheckReport,
  Comparison as TuneComparison,
  ModeAnswer as CheckAnswer,
  ModeReport as CheckModeReport,
  SummaryOutcome as DocumentSummary,
  Totals as CheckTotals,
  TuneEvent as TuneProgress,
} from './generated';

export type SummaryLength = 'short' | 'long';
