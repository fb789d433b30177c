// Helpers the three domain clients share: scoping a call to the chosen knowledge base, and turning
// the transport's untyped stream into a typed one.

import type { Call, StreamEvent, StreamHandle, Transport } from './transport';

/** Returns the knowledge base calls should address; undefined = the server's current one. */
export type KbScope = () => string | undefined;

/** Adds `kb` both ways it can travel: `?kb=` over HTTP and a `kb` argument over Tauri. */
export function inKb(call: Call, kb: string | undefined): Call {
  if (!kb) return call;
  return { ...call, query: { ...call.query, kb }, args: { ...call.args, kb } };
}

/**
 * Runs a streaming call, passing on only the events `narrow` recognises. Unknown event names are
 * skipped rather than treated as errors, so a newer server can add events without breaking this UI.
 */
export function typedStream<E, F>(
  transport: Transport,
  call: Call,
  onEvent: (e: E) => void,
  narrow: (e: StreamEvent) => E | null,
): StreamHandle<F> {
  const handle = transport.stream(call, (raw) => {
    const event = narrow(raw);
    if (event !== null) onEvent(event);
  });
  return { done: handle.done as Promise<F>, stop: () => handle.stop() };
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
