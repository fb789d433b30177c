// What both transports do with a stream's events: pass the intermediate ones on, and settle the
// stream's promise exactly once, on `done`, `error`, a transport failure or a stop, whichever
// comes first. Events after that are dropped, so a late token can never reach a finished message.

import { ApiError, toApiError } from './errors';
import type { StreamEvent } from './transport';

export class StreamSettler {
  readonly done: Promise<unknown>;
  #settled = false;
  #resolve!: (v: unknown) => void;
  #reject!: (e: ApiError) => void;
  readonly #onEvent: (e: StreamEvent) => void;

  constructor(onEvent: (e: StreamEvent) => void) {
    this.#onEvent = onEvent;
    this.done = new Promise<unknown>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // A caller that only uses `onEvent` and never awaits `done` must not cause an
    // "unhandled rejection"; callers that do await still see the rejection.
    this.done.catch(() => undefined);
  }

  get settled(): boolean {
    return this.#settled;
  }

  deliver(e: StreamEvent): void {
    if (this.#settled) return;
    if (e.event === 'done') {
      this.resolve(e.data);
    } else if (e.event === 'error') {
      this.reject(toApiError(e.data, 'stream_error'));
    } else {
      try {
        this.#onEvent(e);
      } catch (err) {
        // A bug in a handler must not leave the stream hanging forever.
        this.reject(toApiError(err, 'handler_failed'));
      }
    }
  }

  resolve(value: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#resolve(value);
  }

  reject(error: ApiError): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#reject(error);
  }
}
