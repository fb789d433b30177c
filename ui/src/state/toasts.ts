// Messages shown briefly in a corner: every ApiError ends here (except a user's own "stop"), so no
// failure is silent and no promise rejection goes unhandled.

import { isAborted, toApiError } from '../api/errors';
import { newId } from '../lib/ids';

export interface Toast {
  id: string;
  kind: 'error' | 'info';
  message: string;
  code?: string;
}

type Listener = () => void;

export class ToastStore {
  #toasts: Toast[] = [];
  readonly #listeners = new Set<Listener>();
  readonly #timeoutMs: number;

  constructor(timeoutMs = 8000) {
    this.#timeoutMs = timeoutMs;
  }

  list(): readonly Toast[] {
    return this.#toasts;
  }

  subscribe(fn: Listener): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  error(e: unknown): void {
    if (isAborted(e)) return;
    const error = toApiError(e);
    this.#push({ id: newId('toast'), kind: 'error', message: error.message, code: error.code });
  }

  info(message: string): void {
    this.#push({ id: newId('toast'), kind: 'info', message });
  }

  dismiss(id: string): void {
    const next = this.#toasts.filter((t) => t.id !== id);
    if (next.length === this.#toasts.length) return;
    this.#toasts = next;
    this.#emit();
  }

  #push(toast: Toast): void {
    // The same message twice in a row (a server that is down, polled) shows once.
    const last = this.#toasts[this.#toasts.length - 1];
    if (last && last.message === toast.message && last.kind === toast.kind) return;
    this.#toasts = [...this.#toasts.slice(-4), toast];
    this.#emit();
    if (this.#timeoutMs > 0) setTimeout(() => this.dismiss(toast.id), this.#timeoutMs);
  }

  #emit(): void {
    this.#listeners.forEach((fn) => fn());
  }
}
