// Knowledge bases, documents and ingestion.

import { ApiError } from './errors';
import { inKb, isObject, typedStream, type KbScope } from './client';
import type { StreamEvent, StreamHandle, Transport } from './transport';
import { newId } from '../lib/ids';
import type {
  DocumentInfo,
  DocumentSummary,
  Health,
  IngestDone,
  IngestProgress,
  KbList,
  OcrChoice,
  SummaryLength,
  SummaryProgress,
  SyncReport,
  WatchedFolder,
} from './types';

export interface IngestEvent {
  event: 'progress';
  data: IngestProgress;
}

export function narrowIngest(e: StreamEvent): IngestEvent | null {
  if (e.event !== 'progress' || !isObject(e.data) || typeof e.data.event !== 'string') return null;
  return { event: 'progress', data: e.data as unknown as IngestProgress };
}

const enc = encodeURIComponent;

export class LibraryClient {
  readonly #t: Transport;
  readonly #kb: KbScope;

  constructor(transport: Transport, kb: KbScope) {
    this.#t = transport;
    this.#kb = kb;
  }

  health(): Promise<Health> {
    return this.#t.request(inKb({ method: 'GET', path: '/api/health', command: 'health' }, this.#kb()));
  }

  /** Not scoped: the list of knowledge bases is the same whichever one is chosen. */
  kbs(): Promise<KbList> {
    return this.#t.request({ method: 'GET', path: '/api/kbs', command: 'kbs_list' });
  }

  createKb(name: string): Promise<{ name: string }> {
    return this.#t.request({
      method: 'POST',
      path: '/api/kbs',
      body: { name },
      command: 'kbs_create',
      args: { name },
    });
  }

  documents(): Promise<DocumentInfo[]> {
    return this.#t.request(inKb({ method: 'GET', path: '/api/documents', command: 'documents_list' }, this.#kb()));
  }

  removeDocument(id: string): Promise<unknown> {
    return this.#t.request(
      inKb(
        { method: 'DELETE', path: `/api/documents/${enc(id)}`, command: 'documents_remove', args: { id } },
        this.#kb(),
      ),
    );
  }

  /** Knowledge base `name` as one archive file (`doctalk kb export`), with its conversations if asked. */
  exportKb(name: string, conversations = false): Promise<ArrayBuffer> {
    return this.#t.bytes({
      method: 'GET',
      path: `/api/kbs/${enc(name)}/export`,
      query: conversations ? { conversations: true } : undefined,
      command: 'kb_export',
      args: { kb: name, conversations },
    });
  }

  /** Restores an archive as the new knowledge base `name`; a damaged one is refused whole. */
  importKb(
    file: Blob,
    name: string,
  ): Promise<{
    kb: string;
    documents: number;
    chunks: number;
    reembedded: boolean;
    folders?: number;
    conversations?: number;
    settings_adopted?: boolean;
  }> {
    return this.#t.request({
      method: 'POST',
      path: '/api/kbs/import',
      query: { name },
      raw: file,
      command: 'kb_import',
      args: { name },
    });
  }

  /** The watched folders, with their failed files and why. */
  folders(): Promise<WatchedFolder[]> {
    return this.#t.request(inKb({ method: 'GET', path: '/api/folders', command: 'folders_list' }, this.#kb()));
  }

  /** Starts following a folder on this computer; it is indexed in the background. */
  addFolder(path: string, include: string[] = [], exclude: string[] = []): Promise<unknown> {
    return this.#t.request(
      inKb(
        {
          method: 'POST',
          path: '/api/folders',
          body: { path, include, exclude },
          command: 'folders_add',
          args: { path, include, exclude },
        },
        this.#kb(),
      ),
    );
  }

  /** Stops following a folder; its documents leave the index (the files stay). */
  removeFolder(path: string): Promise<unknown> {
    return this.#t.request(
      inKb(
        { method: 'DELETE', path: '/api/folders', query: { path }, command: 'folders_remove', args: { path } },
        this.#kb(),
      ),
    );
  }

  /** One pass now, without waiting for the watcher. */
  syncFolders(): Promise<SyncReport> {
    return this.#t.request(inKb({ method: 'POST', path: '/api/folders/sync', command: 'folders_sync' }, this.#kb()));
  }

  /** Reads the document again from its file; `ocr` forces or forbids OCR for this file. */
  reindex(id: string, onEvent: (e: IngestEvent) => void, ocr: OcrChoice = 'auto'): StreamHandle<IngestDone> {
    return typedStream(
      this.#t,
      inKb(
        {
          method: 'POST',
          path: `/api/documents/${enc(id)}/reindex`,
          command: 'documents_reindex',
          args: { id, ocr },
          query: ocr === 'auto' ? undefined : { ocr },
        },
        this.#kb(),
      ),
      onEvent,
      narrowIngest,
    );
  }

  /**
   * A summary of one document (`progress` {done, total}, then the summary); stopping ends it on
   * the Rust side too.
   */
  summarize(id: string, length: SummaryLength, onProgress: (p: SummaryProgress) => void): StreamHandle<DocumentSummary> {
    const requestId = newId('summary');
    return typedStream(
      this.#t,
      inKb(
        {
          method: 'POST',
          path: `/api/documents/${enc(id)}/summary`,
          query: { length },
          command: 'document_summarize',
          args: { id, length, requestId },
          stop: { command: 'ask_stop', args: { requestId } },
        },
        this.#kb(),
      ),
      onProgress,
      (e) => (e.event === 'progress' && isObject(e.data) ? (e.data as unknown as SummaryProgress) : null),
    );
  }

  /** The original file (a PDF for the viewer). */
  documentFile(id: string): Promise<ArrayBuffer> {
    return this.#t.bytes(
      inKb(
        { method: 'GET', path: `/api/documents/${enc(id)}/file`, command: 'document_file', args: { id } },
        this.#kb(),
      ),
    );
  }

  /**
   * Uploads one file's bytes and ingests it. One call per file so that each file's progress and
   * errors stay its own. Over Tauri this is the fallback for the file pickers, which give bytes but
   * no paths; drag and drop there uses `ingestPaths`.
   */
  ingestFile(
    file: Blob,
    name: string,
    onEvent: (e: IngestEvent) => void,
    password?: string,
  ): StreamHandle<IngestDone> {
    const secret = password ? { password } : undefined;
    return typedStream(
      this.#t,
      inKb(
        {
          method: 'POST',
          path: '/api/ingest',
          query: { name },
          raw: file,
          secret,
          command: 'ingest_file',
          args: { name, ...secret },
        },
        this.#kb(),
      ),
      onEvent,
      narrowIngest,
    );
  }

  /**
   * Ingests native files or folders in place. Desktop only: a browser never sees native paths, and
   * the HTTP API has no such endpoint, so over HTTP this fails at once instead of guessing a route.
   */
  ingestPaths(paths: string[], onEvent: (e: IngestEvent) => void, password?: string): StreamHandle<IngestDone> {
    if (this.#t.kind !== 'tauri') {
      const done = Promise.reject(new ApiError('unsupported', 'Ingesting by path needs the desktop app.'));
      done.catch(() => undefined);
      return { done, stop: () => undefined };
    }
    return typedStream(
      this.#t,
      inKb(
        { method: 'POST', path: '/api/ingest', command: 'ingest_paths', args: { paths, password: password ?? null } },
        this.#kb(),
      ),
      onEvent,
      narrowIngest,
    );
  }

  installSample(onEvent: (e: IngestEvent) => void): StreamHandle<IngestDone> {
    return typedStream(
      this.#t,
      inKb({ method: 'POST', path: '/api/sample', command: 'sample_install' }, this.#kb()),
      onEvent,
      narrowIngest,
    );
  }
}
