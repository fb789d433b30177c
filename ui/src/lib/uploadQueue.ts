// Runs ingest jobs with limited concurrency and keeps every file's row.
//
// A folder can hold a thousand files, so two things matter: at most `concurrency` requests run at
// once (the server embeds one file at a time anyway; more parallel uploads only compete for memory),
// and listeners are narrow. A row's own listeners hear only about that row, list listeners only
// when rows are added or removed, and change listeners (the summary) are told that something changed
// and are expected to throttle. So a progress tick re-renders one row, not a thousand.

import { isAborted, toApiError, type ApiError } from '../api/errors';
import type { IngestEvent } from '../api/library';
import type { StreamHandle } from '../api/transport';
import type { IngestDone } from '../api/types';
import { newId } from './ids';
import {
  FINISHED,
  newRow,
  applyProgress,
  baseName,
  failWith,
  finishFromDone,
  finishWith,
  type UploadRow,
  type UploadStatus,
} from './uploads';

/** Starts an ingest request; `password` is given when the user retries a password-protected PDF. */
type Start = (onEvent: (e: IngestEvent) => void, password?: string) => StreamHandle<IngestDone>;
type Unlock = (password: string, onEvent: (e: IngestEvent) => void) => StreamHandle<IngestDone>;

/** One file, one request: every event of the stream belongs to its row. */
export interface FileJob {
  name: string;
  path?: string;
  size?: number;
  start: Start;
}

/** One request for many files (desktop paths, the sample, a re-index): rows appear per path as
 * the server starts each file. `label` names the single row shown if it fails before any file.
 * `unlockPath`, where given, ingests one of its files again with a password. */
export interface BatchJob {
  label: string;
  start: Start;
  unlockPath?: (path: string, password: string, onEvent: (e: IngestEvent) => void) => StreamHandle<IngestDone>;
}

/** The failure codes a password can cure. */
const PASSWORD_CODES: ReadonlySet<string> = new Set(['encrypted', 'wrong_password']);

export interface UploadQueueOptions {
  concurrency?: number;
  /** Called once per row when it reaches indexed, unchanged or failed. */
  onFinished?: (row: UploadRow) => void;
}

type Listener = () => void;

export class UploadQueue {
  readonly #concurrency: number;
  readonly #onFinished: (row: UploadRow) => void;
  readonly #rows = new Map<string, UploadRow>();
  #order: string[] = [];
  readonly #rowListeners = new Map<string, Set<Listener>>();
  readonly #listListeners = new Set<Listener>();
  readonly #changeListeners = new Set<Listener>();
  readonly #waiting: (() => StreamHandle<IngestDone>)[] = [];
  readonly #waitingRows: string[][] = [];
  readonly #active = new Set<StreamHandle<IngestDone>>();
  /** How to ingest a row's file again with a password; kept in memory only, never the password. */
  readonly #unlockers = new Map<string, Unlock>();
  #skipped = 0;

  constructor(options: UploadQueueOptions = {}) {
    this.#concurrency = Math.max(1, options.concurrency ?? 3);
    this.#onFinished = options.onFinished ?? (() => undefined);
  }

  // ---- reading ----

  ids(): readonly string[] {
    return this.#order;
  }

  row(id: string): UploadRow | undefined {
    return this.#rows.get(id);
  }

  get activeCount(): number {
    return this.#active.size;
  }

  /** True while anything is running or waiting. */
  get busy(): boolean {
    return this.#active.size > 0 || this.#waiting.length > 0;
  }

  counts(): Record<UploadStatus, number> {
    const counts: Record<UploadStatus, number> = {
      queued: 0,
      parse: 0,
      ocr: 0,
      embed: 0,
      commit: 0,
      indexed: 0,
      unchanged: 0,
      moved: 0,
      duplicate: 0,
      failed: 0,
    };
    for (const row of this.#rows.values()) counts[row.status] += 1;
    return counts;
  }

  /** Whether the row failed for want of a password (or a wrong one) and can be retried with one. */
  needsPassword(id: string): boolean {
    const row = this.#rows.get(id);
    return (
      row !== undefined &&
      row.status === 'failed' &&
      this.#unlockers.has(id) &&
      row.diagnostics.some((d) => PASSWORD_CODES.has(d.code))
    );
  }

  /** Ingests a password-protected file again with `password`; its row starts over. */
  unlock(id: string, password: string): void {
    const unlocker = this.#unlockers.get(id);
    const row = this.#rows.get(id);
    if (!unlocker || !row || !this.needsPassword(id)) return;
    this.#rows.set(id, newRow(id, row.name, row.path, row.size));
    this.#rowListeners.get(id)?.forEach((fn) => fn());
    this.#notifyChange();
    this.#schedule([id], () => this.#runFile(id, (onEvent) => unlocker(password, onEvent)));
  }

  /** Files left out before sending (hidden, or not a document type inside a folder). */
  get skipped(): number {
    return this.#skipped;
  }

  addSkipped(n: number): void {
    if (n <= 0) return;
    this.#skipped += n;
    this.#notifyChange();
  }

  subscribeRow(id: string, fn: Listener): () => void {
    let set = this.#rowListeners.get(id);
    if (!set) {
      set = new Set();
      this.#rowListeners.set(id, set);
    }
    set.add(fn);
    return () => set.delete(fn);
  }

  subscribeList(fn: Listener): () => void {
    this.#listListeners.add(fn);
    return () => this.#listListeners.delete(fn);
  }

  subscribeChange(fn: Listener): () => void {
    this.#changeListeners.add(fn);
    return () => this.#changeListeners.delete(fn);
  }

  // ---- adding work ----

  /** Adds one row per file (status "queued" at once) and schedules the uploads. */
  enqueueFiles(jobs: FileJob[]): string[] {
    const ids = jobs.map((job) => this.#addRow(job.name, job.path, job.size));
    this.#notifyList();
    jobs.forEach((job, i) => {
      const id = ids[i] as string;
      this.#unlockers.set(id, (password, onEvent) => job.start(onEvent, password));
      this.#schedule([id], () => this.#runFile(id, job.start));
    });
    return ids;
  }

  enqueueBatch(job: BatchJob): void {
    this.#schedule([], () => this.#runBatch(job));
  }

  /** Stops everything: running requests are aborted, waiting files are marked cancelled. */
  stopAll(message = 'Cancelled'): void {
    const waitingRows = this.#waitingRows.flat();
    this.#waiting.length = 0;
    this.#waitingRows.length = 0;
    for (const id of waitingRows) this.#update(id, (r) => failWith(r, 'cancelled', message));
    for (const handle of [...this.#active]) handle.stop();
  }

  /** Removes finished rows (a fresh start for the next drop). */
  clearFinished(): void {
    const keep = this.#order.filter((id) => !FINISHED.has(this.#rows.get(id)?.status ?? 'failed'));
    const kept = new Set(keep);
    for (const id of this.#order) {
      if (!kept.has(id)) {
        this.#rows.delete(id);
        this.#rowListeners.delete(id);
        this.#unlockers.delete(id);
      }
    }
    this.#order = keep;
    this.#skipped = 0;
    this.#notifyList();
    this.#notifyChange();
  }

  // ---- running ----

  #schedule(rows: string[], run: () => StreamHandle<IngestDone>): void {
    this.#waiting.push(run);
    this.#waitingRows.push(rows);
    this.#pump();
  }

  #pump(): void {
    while (this.#active.size < this.#concurrency && this.#waiting.length > 0) {
      const run = this.#waiting.shift() as () => StreamHandle<IngestDone>;
      this.#waitingRows.shift();
      const handle = run();
      this.#active.add(handle);
      const release = () => {
        this.#active.delete(handle);
        this.#pump();
        // `busy` may have changed without any row changing (the last job just ended).
        this.#notifyChange();
      };
      handle.done.then(release, release);
    }
  }

  #runFile(id: string, start: Start): StreamHandle<IngestDone> {
    let handle: StreamHandle<IngestDone>;
    try {
      handle = start((e) => this.#update(id, (r) => applyProgress(r, e)));
    } catch (e) {
      handle = failedHandle(toApiError(e));
    }
    handle.done.then(
      (done) => this.#update(id, (r) => finishFromDone(r, done)),
      (e: unknown) => this.#update(id, (r) => failFromError(r, e)),
    );
    return handle;
  }

  #runBatch(job: BatchJob): StreamHandle<IngestDone> {
    const byPath = new Map<string, string>();
    const rowFor = (path: string): string => {
      let id = byPath.get(path);
      if (id === undefined) {
        id = this.#addRow(baseName(path), path);
        byPath.set(path, id);
        const unlockPath = job.unlockPath;
        if (unlockPath) this.#unlockers.set(id, (password, onEvent) => unlockPath(path, password, onEvent));
        this.#notifyList();
      }
      return id;
    };
    let handle: StreamHandle<IngestDone>;
    try {
      handle = job.start((e) => {
        const id = rowFor(e.data.path);
        this.#update(id, (r) => applyProgress(r, e));
      });
    } catch (e) {
      handle = failedHandle(toApiError(e));
    }
    handle.done.then(
      (done) => {
        for (const report of done && Array.isArray(done.files) ? done.files : []) {
          this.#update(rowFor(report.path), (r) => finishWith(r, report));
        }
        for (const id of byPath.values()) this.#update(id, (r) => finishFromDone(r, null));
      },
      (e: unknown) => {
        if (byPath.size === 0) rowFor(job.label);
        for (const id of byPath.values()) this.#update(id, (r) => failFromError(r, e));
      },
    );
    return handle;
  }

  // ---- store internals ----

  #addRow(name: string, path?: string, size?: number): string {
    const id = newId('upload');
    this.#rows.set(id, newRow(id, name, path ?? name, size ?? null));
    this.#order = [...this.#order, id];
    return id;
  }

  #update(id: string, change: (row: UploadRow) => UploadRow): void {
    const before = this.#rows.get(id);
    if (!before) return;
    const after = change(before);
    if (after === before) return;
    this.#rows.set(id, after);
    this.#rowListeners.get(id)?.forEach((fn) => fn());
    this.#notifyChange();
    if (!FINISHED.has(before.status) && FINISHED.has(after.status)) this.#onFinished(after);
  }

  #notifyList(): void {
    this.#listListeners.forEach((fn) => fn());
  }

  #notifyChange(): void {
    this.#changeListeners.forEach((fn) => fn());
  }
}

function failFromError(row: UploadRow, e: unknown): UploadRow {
  if (isAborted(e)) return failWith(row, 'cancelled', 'Cancelled');
  const error: ApiError = toApiError(e);
  return failWith(row, error.code, error.message);
}

function failedHandle(error: ApiError): StreamHandle<IngestDone> {
  const done = Promise.reject(error);
  done.catch(() => undefined);
  return { done, stop: () => undefined };
}
