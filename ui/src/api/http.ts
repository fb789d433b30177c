// The browser transport: fetch to the same origin. Streams are POST responses in text/event-stream
// format read through the body's ReadableStream (EventSource can only GET), and stopping one aborts
// the request, which the server takes as the signal to cancel the work.

import { ABORTED, ApiError, toApiError } from './errors';
import { StreamSettler } from './settle';
import { SseParser } from './sse';
import type { Call, StreamEvent, StreamHandle, Transport } from './transport';

export interface HttpTransportOptions {
  /** Injected in tests; defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Prefix for every path; '' means the page's own origin. */
  baseUrl?: string;
  /** Sent as `Authorization: Bearer` when set (a server bound beyond localhost needs it). */
  token?: string | null;
}

export class HttpTransport implements Transport {
  readonly kind = 'http' as const;
  readonly #fetch: typeof fetch;
  readonly #baseUrl: string;
  readonly #token: string | null;

  constructor(options: HttpTransportOptions = {}) {
    // Bound, because calling window.fetch with another `this` throws "Illegal invocation".
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#baseUrl = options.baseUrl ?? '';
    this.#token = options.token ?? null;
  }

  async request<T>(call: Call): Promise<T> {
    const response = await this.#send(call, 'application/json');
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    if (text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError('bad_response', `The server sent something that is not JSON: ${text.slice(0, 200)}`);
    }
  }

  async bytes(call: Call): Promise<ArrayBuffer> {
    const response = await this.#send(call, '*/*');
    return response.arrayBuffer();
  }

  stream(call: Call, onEvent: (e: StreamEvent) => void): StreamHandle<unknown> {
    const settler = new StreamSettler(onEvent);
    const controller = new AbortController();
    void this.#pump(call, controller.signal, settler);
    return {
      done: settler.done,
      stop: () => {
        settler.reject(new ApiError(ABORTED, 'Stopped'));
        controller.abort();
      },
    };
  }

  async #pump(call: Call, signal: AbortSignal, settler: StreamSettler): Promise<void> {
    const parser = new SseParser((m) => settler.deliver({ event: m.event, data: parseData(m.data) }));
    try {
      const response = await this.#send(call, 'text/event-stream', signal);
      if (response.body) {
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        // Reading stops as soon as the stream settled (done, error or stop) even if the server
        // keeps the connection open a little longer.
        while (!settler.settled) {
          const { done, value } = await reader.read();
          if (done) break;
          parser.push(decoder.decode(value, { stream: true }));
        }
        if (settler.settled) void reader.cancel().catch(() => undefined);
        else parser.push(decoder.decode());
      } else {
        parser.push(await response.text());
      }
      parser.end();
      settler.reject(new ApiError('stream_ended', 'The connection closed before the server finished.'));
    } catch (e) {
      // After stop() the abort surfaces here as an AbortError; the stream is already settled then.
      settler.reject(toApiError(e, 'network'));
    }
  }

  async #send(call: Call, accept: string, signal?: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { Accept: accept };
    if (this.#token) headers.Authorization = `Bearer ${this.#token}`;
    for (const [name, value] of Object.entries(call.secret ?? {})) headers[`x-doctalk-${name}`] = encodeURIComponent(value);
    let body: BodyInit | undefined;
    if (call.raw !== undefined) {
      body = call.raw;
      headers['Content-Type'] = 'application/octet-stream';
    } else if (call.body !== undefined) {
      body = JSON.stringify(call.body);
      headers['Content-Type'] = 'application/json';
    }
    const init: RequestInit = { method: call.method, headers };
    if (body !== undefined) init.body = body;
    if (signal) init.signal = signal;

    let response: Response;
    try {
      response = await this.#fetch(this.#url(call), init);
    } catch (e) {
      if (signal?.aborted) throw new ApiError(ABORTED, 'Stopped');
      throw new ApiError('network', `Cannot reach DocTalk: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (!response.ok) throw await errorFrom(response);
    return response;
  }

  #url(call: Call): string {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(call.query ?? {})) {
      if (value !== undefined) params.set(key, String(value));
    }
    const qs = params.toString();
    return `${this.#baseUrl}${call.path}${qs ? `?${qs}` : ''}`;
  }
}

/** `{"error": {"code", "message"}}` when the server wrote it, else a code made from the status. */
async function errorFrom(response: Response): Promise<ApiError> {
  const fallback = response.status === 413 ? 'payload_too_large' : `http_${response.status}`;
  let text = '';
  try {
    text = await response.text();
  } catch {
    // The body is unreadable: the status alone has to do.
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && ('error' in parsed || 'message' in parsed)) {
      return toApiError(parsed, fallback);
    }
  } catch {
    // Not JSON (a proxy's HTML page, an empty body): fall through.
  }
  const message = text.trim() || `${response.status} ${response.statusText}`.trim();
  return new ApiError(fallback, message);
}

/** SSE data from this server is JSON; anything else is passed on as the raw string. */
function parseData(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
}
