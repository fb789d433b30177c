// One conversation as the chat pane shows it: the messages, the answer being streamed, and the
// conversation id to continue. Free of Preact so that the streaming rules are testable on their own.

import { isAborted, toApiError } from '../api/errors';
import type { AskEvent, ChatClient } from '../api/chat';
import type { StreamHandle } from '../api/transport';
import type { Answer, AskRequest, Conversation, Source } from '../api/types';
import { newId } from '../lib/ids';

export type AssistantState = 'streaming' | 'done' | 'error' | 'stopped';

export interface UserMessage {
  id: string;
  role: 'user';
  text: string;
}

export interface AssistantMessage {
  id: string;
  role: 'assistant';
  question: string;
  state: AssistantState;
  text: string;
  /** The query as searched (a follow-up is rewritten into a standalone question). */
  query: string | null;
  sources: Source[];
  mode: string | null;
  model: string | null;
  fallbackReason: string | null;
  /** The model read the chosen documents whole: every passage is a source. */
  wholeDocument: boolean;
  /** Claims the model made that its sources do not support (shown replaced by the source's words). */
  unverified: string[];
  grounded: boolean | null;
  error: string | null;
}

export type Message = UserMessage | AssistantMessage;

type Listener = () => void;

export class ChatSession {
  #messages: Message[] = [];
  #conversation: string | null = null;
  /** Document ids questions keep to (empty: the whole knowledge base). */
  #scope: readonly string[] = [];
  /** Folders questions keep to (every document inside them), with the documents above. */
  #folders: readonly string[] = [];
  #handle: StreamHandle<Answer> | null = null;
  #streamingId: string | null = null;
  readonly #listeners = new Set<Listener>();
  readonly #client: ChatClient;
  readonly #onError: (e: unknown) => void;
  readonly #onConversation: (id: string) => void;

  constructor(client: ChatClient, onError: (e: unknown) => void, onConversation: (id: string) => void = () => undefined) {
    this.#client = client;
    this.#onError = onError;
    this.#onConversation = onConversation;
  }

  messages(): readonly Message[] {
    return this.#messages;
  }

  get conversationId(): string | null {
    return this.#conversation;
  }

  /** Keeps the next questions to these documents (an empty list: all of them). */
  setScope(docIds: readonly string[], folders: readonly string[] = []): void {
    this.#scope = [...docIds];
    this.#folders = [...folders];
  }

  get streaming(): boolean {
    return this.#streamingId !== null;
  }

  subscribe(fn: Listener): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  ask(question: string): void {
    const text = question.trim();
    if (!text || this.streaming) return;
    const id = newId('msg');
    this.#messages = [
      ...this.#messages,
      { id: newId('msg'), role: 'user', text },
      {
        id,
        role: 'assistant',
        question: text,
        state: 'streaming',
        text: '',
        query: null,
        sources: [],
        mode: null,
        model: null,
        fallbackReason: null,
        wholeDocument: false,
        unverified: [],
        grounded: null,
        error: null,
      },
    ];
    this.#streamingId = id;
    this.#emit();

    const request: AskRequest = { question: text, conversation: this.#conversation ?? 'new' };
    if (this.#scope.length > 0 || this.#folders.length > 0) {
      request.scope = {};
      if (this.#scope.length > 0) request.scope.docs = [...this.#scope];
      if (this.#folders.length > 0) request.scope.folders = [...this.#folders];
    }
    const handle = this.#client.ask(request, (e) => this.#onEvent(id, e));
    this.#handle = handle;
    handle.done.then(
      (answer) => this.#finish(id, answer),
      (e: unknown) => this.#fail(id, e),
    );
  }

  /** Stops the answer being written; what arrived so far stays, marked as stopped. */
  stop(): void {
    this.#handle?.stop();
  }

  /** Starts a new conversation (stopping any answer in progress). */
  reset(): void {
    this.#detach();
    this.#messages = [];
    this.#conversation = null;
    this.#emit();
  }

  /** Shows a stored conversation; the next question continues it. */
  load(conversation: Conversation): void {
    this.#detach();
    const messages: Message[] = [];
    for (const turn of Array.isArray(conversation.turns) ? conversation.turns : []) {
      const question = typeof turn.question === 'string' ? turn.question : '';
      messages.push({ id: newId('msg'), role: 'user', text: question });
      messages.push({
        id: newId('msg'),
        role: 'assistant',
        question,
        state: 'done',
        text: typeof turn.answer === 'string' ? turn.answer : '',
        query: typeof turn.query === 'string' ? turn.query : null,
        sources: Array.isArray(turn.sources) ? turn.sources : [],
        mode: typeof turn.mode === 'string' ? turn.mode : null,
        model: null,
        fallbackReason: null,
        wholeDocument: false,
        unverified: [],
        grounded: typeof turn.grounded === 'boolean' ? turn.grounded : null,
        error: null,
      });
    }
    this.#messages = messages;
    this.#conversation = conversation.id;
    this.#emit();
  }

  /** Stops the current answer and forgets it at once, so a new question can start right away. */
  #detach(): void {
    this.stop();
    this.#handle = null;
    this.#streamingId = null;
  }

  #onEvent(id: string, e: AskEvent): void {
    switch (e.event) {
      case 'query':
        this.#patch(id, { query: e.data.query });
        break;
      case 'sources':
        this.#patch(id, { sources: e.data });
        break;
      case 'token':
        this.#patch(id, (m) => ({ text: m.text + e.data.text }));
        break;
    }
  }

  #finish(id: string, answer: Answer): void {
    // The final text wins over the streamed tokens: the server strips invented citations from it.
    this.#patch(id, (m) => ({
      state: answer.cancelled ? 'stopped' : 'done',
      text: typeof answer.answer === 'string' ? answer.answer : m.text,
      query: answer.query ?? m.query,
      sources: Array.isArray(answer.sources) ? answer.sources : m.sources,
      mode: answer.mode ?? null,
      model: answer.model ?? null,
      fallbackReason: answer.fallback_reason ?? null,
      wholeDocument: answer.whole_document === true,
      unverified: Array.isArray(answer.unverified) ? answer.unverified.map((c) => c.claim) : [],
      grounded: typeof answer.grounded === 'boolean' ? answer.grounded : null,
    }));
    if (answer.conversation) {
      this.#conversation = answer.conversation;
      this.#onConversation(answer.conversation);
    }
    this.#endStream(id);
  }

  #fail(id: string, e: unknown): void {
    if (isAborted(e)) {
      this.#patch(id, { state: 'stopped' });
    } else {
      const error = toApiError(e);
      this.#patch(id, { state: 'error', error: error.message });
      this.#onError(error);
    }
    this.#endStream(id);
  }

  #endStream(id: string): void {
    if (this.#streamingId === id) {
      this.#streamingId = null;
      this.#handle = null;
    }
    this.#emit();
  }

  #patch(
    id: string,
    change: Partial<AssistantMessage> | ((m: AssistantMessage) => Partial<AssistantMessage>),
  ): void {
    let changed = false;
    this.#messages = this.#messages.map((m) => {
      if (m.id !== id || m.role !== 'assistant') return m;
      changed = true;
      return { ...m, ...(typeof change === 'function' ? change(m) : change) };
    });
    if (changed) this.#emit();
  }

  #emit(): void {
    this.#listeners.forEach((fn) => fn());
  }
}
