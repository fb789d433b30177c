// The seam between the typed clients (library, chat, settings) and the two ways of reaching the
// Rust side: HTTP on the same origin, or Tauri's IPC. A client describes each operation once as a
// `Call` carrying both spellings (HTTP route and Tauri command); a transport uses the half it needs.

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export type QueryValue = string | number | boolean | undefined;

export interface Call {
  /** HTTP spelling. `path` is already URL-encoded; `query` values are encoded by the transport. */
  method: HttpMethod;
  path: string;
  query?: Record<string, QueryValue>;
  /** A JSON request body. */
  body?: unknown;
  /** A raw request body (file uploads); wins over `body`. */
  raw?: Blob;
  /**
   * Values that must stay out of URLs (a PDF's password): sent as URI-encoded `x-doctalk-<name>`
   * headers over HTTP. Tauri receives them among `args`.
   */
  secret?: Record<string, string>;

  /** Tauri spelling: the command and its arguments (camelCase, as Tauri expects from JS). */
  command: string;
  args?: Record<string, unknown>;
  /**
   * How to stop a stream over Tauri (HTTP just aborts the request). Without it, stopping a Tauri
   * stream only stops listening: the command runs to its end on the Rust side.
   */
  stop?: { command: string; args: Record<string, unknown> };
}

/** One server-sent event, or one Tauri channel message: the same (name, data) pairs. */
export interface StreamEvent {
  event: string;
  data: unknown;
}

export interface StreamHandle<Final> {
  /** Resolves with the `done` event's data; rejects with an ApiError (`error` event, transport
   * failure, or code "aborted" after `stop()`). */
  done: Promise<Final>;
  stop(): void;
}

export interface Transport {
  readonly kind: 'http' | 'tauri';
  /** A JSON request/response call. */
  request<T>(call: Call): Promise<T>;
  /** A call answered by raw bytes (a document's original file). */
  bytes(call: Call): Promise<ArrayBuffer>;
  /**
   * A call answered by a stream of events. `onEvent` sees every event except the final `done` /
   * `error`, which settle `done` instead.
   */
  stream(call: Call, onEvent: (e: StreamEvent) => void): StreamHandle<unknown>;
}
