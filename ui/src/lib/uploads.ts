// Upload rows: the state of each file being ingested, and the transition rule from ingest events.
// Kept free of any UI so the rule can be tested on its own.

import type { IngestEvent } from '../api/library';
import type { Diagnostic, FileReport, IngestDone } from '../api/types';

export type UploadStatus =
  | 'queued'
  | 'parse'
  | 'ocr'
  | 'embed'
  | 'commit'
  | 'indexed'
  | 'unchanged'
  | 'moved'
  | 'duplicate'
  | 'failed';

export const FINISHED: ReadonlySet<UploadStatus> = new Set(['indexed', 'unchanged', 'moved', 'duplicate', 'failed']);

export interface UploadRow {
  id: string;
  /** The file name. */
  name: string;
  /** Where it came from: the path inside a dropped folder, or a native path. */
  path: string;
  /** Bytes, when known before sending (browser uploads): a 0-byte file gets its own message. */
  size: number | null;
  status: UploadStatus;
  /** Chunks embedded so far, while status is "embed". */
  /** Embedding progress; `etaS`: seconds left at the pace so far (null before the first batch). */
  embed: { done: number; total: number; etaS?: number | null } | null;
  /** Pages read by OCR so far, while status is "ocr" (scanned pages, pictures). */
  ocr: { done: number; total: number } | null;
  diagnostics: Diagnostic[];
  docId: string | null;
  pages: number | null;
  chunks: number;
}

export function newRow(id: string, name: string, path = name, size: number | null = null): UploadRow {
  return {
    id,
    name,
    path,
    size,
    status: 'queued',
    embed: null,
    ocr: null,
    diagnostics: [],
    docId: null,
    pages: null,
    chunks: 0,
  };
}

/**
 * The row after one progress event. Finished rows never change again: a late or repeated event
 * cannot turn "failed" back into "embed".
 */
export function applyProgress(row: UploadRow, e: IngestEvent): UploadRow {
  if (FINISHED.has(row.status)) return row;
  const p = e.data;
  switch (p.event) {
    case 'file_started':
      // A file is read ahead while the one before it is embedded: its OCR pages may come first.
      return row.status === 'ocr' ? row : { ...row, status: 'parse' };
    case 'stage':
      if (p.stage.stage === 'parse' && row.status === 'ocr') return row;
      if (p.stage.stage === 'embed') {
        return {
          ...row,
          status: 'embed',
          embed: { done: p.stage.done, total: p.stage.total, etaS: p.stage.eta_s ?? null },
        };
      }
      if (p.stage.stage === 'ocr') {
        return { ...row, status: 'ocr', ocr: { done: p.stage.done, total: p.stage.total } };
      }
      return { ...row, status: p.stage.stage };
    case 'file_finished':
      return finishWith(row, p);
    default:
      return row;
  }
}

export function finishWith(row: UploadRow, report: FileReport): UploadRow {
  if (FINISHED.has(row.status)) return row;
  return {
    ...row,
    status: report.status,
    embed: null,
    ocr: null,
    diagnostics: Array.isArray(report.diagnostics) ? report.diagnostics : [],
    docId: report.doc_id ?? null,
    pages: report.pages ?? null,
    chunks: report.chunks ?? 0,
  };
}

/** A row that failed before the server could report on it (too large, network, …). */
export function failWith(row: UploadRow, code: string, message: string): UploadRow {
  if (FINISHED.has(row.status)) return row;
  return { ...row, status: 'failed', embed: null, diagnostics: [{ code, message, page: null }] };
}

/**
 * Settles a single-file row from the stream's `done` data, for a server that sent no
 * `file_finished` event. The report is matched by path when the server gives several.
 */
export function finishFromDone(row: UploadRow, done: IngestDone | null | undefined, path?: string): UploadRow {
  const files = done && Array.isArray(done.files) ? done.files : [];
  const report = (path ? files.find((f) => f.path === path) : undefined) ?? (files.length === 1 ? files[0] : undefined);
  if (report) return finishWith(row, report);
  return failWith(row, 'no_report', 'The server finished without a report for this file.');
}

export function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}
