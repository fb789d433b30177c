// Barge-in inside the page: when the user starts speaking a question, every answer being read
// aloud stops. The microphone announces it; read-aloud players listen.

const target = new EventTarget();
const EVENT = 'barge-in';

export function bargeIn(): void {
  target.dispatchEvent(new Event(EVENT));
}

/** Calls `fn` on every barge-in; returns the unsubscribe function. */
export function onBargeIn(fn: () => void): () => void {
  target.addEventListener(EVENT, fn);
  return () => target.removeEventListener(EVENT, fn);
}
