// Questions and answers: the answer stream, search, and stored conversations.

import { newId } from '../lib/ids';
import { inKb, isObject, typedStream, type KbScope } from './client';
import type { StreamEvent, StreamHandle, Transport } from './transport';
import type {
  Answer,
  AskRequest,
  CheckProgress,
  CheckReport,
  CheckRequest,
  Conversation,
  ConversationSummary,
  Explanation,
  SearchHit,
  Source,
  Transcript,
} from './types';

export type AskEvent =
  | { event: 'query'; data: { query: string } }
  | { event: 'sources'; data: Source[] }
  | { event: 'token'; data: { text: string } };

export function narrowAsk(e: StreamEvent): AskEvent | null {
  switch (e.event) {
    case 'query':
      return isObject(e.data) && typeof e.data.query === 'string' ? { event: 'query', data: { query: e.data.query } } : null;
    case 'sources':
      return Array.isArray(e.data) ? { event: 'sources', data: e.data as Source[] } : null;
    case 'token':
      return isObject(e.data) && typeof e.data.text === 'string' ? { event: 'token', data: { text: e.data.text } } : null;
    default:
      return null;
  }
}

const enc = encodeURIComponent;

export interface ListenEvent {
  event: 'listening' | 'speech' | 'transcribing';
}

function narrowListen(e: StreamEvent): ListenEvent | null {
  return e.event === 'listening' || e.event === 'speech' || e.event === 'transcribing' ? { event: e.event } : null;
}

export class ChatClient {
  readonly #t: Transport;
  readonly #kb: KbScope;

  constructor(transport: Transport, kb: KbScope) {
    this.#t = transport;
    this.#kb = kb;
  }

  /**
   * Streams an answer. Stopping aborts the HTTP request (the server cancels when the client hangs
   * up); over Tauri the request id names the answer to cancel.
   */
  ask(request: AskRequest, onEvent: (e: AskEvent) => void): StreamHandle<Answer> {
    const requestId = newId('ask');
    return typedStream(
      this.#t,
      inKb(
        {
          method: 'POST',
          path: '/api/ask/stream',
          body: request,
          command: 'ask_stream',
          args: { request, requestId },
          stop: { command: 'ask_stop', args: { requestId } },
        },
        this.#kb(),
      ),
      onEvent,
      narrowAsk,
    );
  }

  /**
   * "Check answers": asks each question of the knowledge base (with the model and extractively) and
   * scores the answers against the expected facts. Stopping ends the run on the Rust side too.
   */
  checkAnswers(request: CheckRequest, onProgress: (p: CheckProgress) => void): StreamHandle<CheckReport> {
    const requestId = newId('check');
    return typedStream(
      this.#t,
      inKb(
        {
          method: 'POST',
          path: '/api/check-answers',
          body: request,
          command: 'check_answers',
          args: { request, requestId },
          stop: { command: 'ask_stop', args: { requestId } },
        },
        this.#kb(),
      ),
      onProgress,
      (e) => (e.event === 'progress' && isObject(e.data) ? (e.data as unknown as CheckProgress) : null),
    );
  }

  /** A spoken question (WAV bytes) → its text; `language` (zh, en) skips detection. */
  transcribe(wav: Blob, language?: string): Promise<Transcript> {
    const args = language ? { language } : {};
    return this.#t.request({
      method: 'POST',
      path: '/api/transcribe',
      query: args,
      raw: wav,
      command: 'transcribe',
      args,
    });
  }

  /**
   * The desktop app's own microphone (Tauri only: WebKitGTK gives pages none): one spoken
   * question, transcribed. Events: `listening`, `speech` (the speaker started), `transcribing`.
   */
  listen(onEvent: (e: ListenEvent) => void, language?: string): StreamHandle<Transcript> {
    const args = language ? { language } : {};
    return typedStream(
      this.#t,
      { method: 'POST', path: '/api/listen', command: 'listen', args },
      onEvent,
      narrowListen,
    );
  }

  /** Ends the question being listened to; what was said so far is transcribed. */
  finishListening(): Promise<boolean> {
    return this.#t.request({ method: 'POST', path: '/api/listen/stop', command: 'listen_stop' });
  }

  /** Hybrid search of the chosen knowledge base, or of all of `across` together (hits name theirs). */
  search(q: string, k = 8, across?: string[]): Promise<SearchHit[]> {
    const kb = across && across.length > 1 ? across.join(',') : this.#kb();
    return this.#t.request(
      inKb({ method: 'GET', path: '/api/search', query: { q, k }, command: 'search', args: { q, k } }, kb),
    );
  }

  /** The retrieval test: each hit's dense and BM25 score and rank, and what an answer would offer. */
  explain(q: string, k = 8): Promise<Explanation> {
    return this.#t.request(
      inKb(
        { method: 'GET', path: '/api/search', query: { q, k, explain: true }, command: 'search_explain', args: { q, k } },
        this.#kb(),
      ),
    );
  }

  conversations(): Promise<ConversationSummary[]> {
    return this.#t.request(
      inKb({ method: 'GET', path: '/api/conversations', command: 'conversations_list' }, this.#kb()),
    );
  }

  conversation(id: string): Promise<Conversation> {
    return this.#t.request(
      inKb(
        { method: 'GET', path: `/api/conversations/${enc(id)}`, command: 'conversation_get', args: { id } },
        this.#kb(),
      ),
    );
  }

  deleteConversation(id: string): Promise<unknown> {
    return this.#t.request(
      inKb(
        { method: 'DELETE', path: `/api/conversations/${enc(id)}`, command: 'conversation_delete', args: { id } },
        this.#kb(),
      ),
    );
  }
}
