// The desktop transport: Tauri commands through `invoke`. Each command mirrors one HTTP endpoint
// and takes the same arguments; a streaming command also takes a Channel as `onEvent` and sends
// on it exactly the (event, data) pairs the HTTP endpoint sends as server-sent events.

import { Channel, invoke } from '@tauri-apps/api/core';
import { ABORTED, ApiError, toApiError } from './errors';
import { StreamSettler } from './settle';
import type { Call, StreamEvent, StreamHandle, Transport } from './transport';

export interface TauriTransportOptions {
  /**
   * How long to wait for a `done` message after the command itself returned nothing. Channel
   * messages with large payloads are fetched separately by Tauri and can arrive after the command's
   * own reply, so "returned" does not yet mean "all events delivered".
   */
  settleGraceMs?: number;
}

export class TauriTransport implements Transport {
  readonly kind = 'tauri' as const;
  readonly #graceMs: number;

  constructor(options: TauriTransportOptions = {}) {
    this.#graceMs = options.settleGraceMs ?? 1500;
  }

  async request<T>(call: Call): Promise<T> {
    try {
      if (call.raw !== undefined) return await invokeRaw<T>(call, call.raw);
      return await invoke<T>(call.command, call.args ?? {});
    } catch (e) {
      throw toApiError(e, 'command_failed');
    }
  }

  async bytes(call: Call): Promise<ArrayBuffer> {
    const result = await this.request<unknown>(call);
    return toArrayBuffer(result);
  }

  stream(call: Call, onEvent: (e: StreamEvent) => void): StreamHandle<unknown> {
    const settler = new StreamSettler(onEvent);
    if (call.raw !== undefined) {
      this.#rawUpload(call, call.raw, settler);
      return { done: settler.done, stop: () => settler.reject(new ApiError(ABORTED, 'Stopped')) };
    }
    const channel = new Channel<unknown>((message) => settler.deliver(toStreamEvent(message)));
    invoke<unknown>(call.command, { ...(call.args ?? {}), onEvent: channel }).then(
      (result) => {
        if (settler.settled) return;
        if (result !== null && result !== undefined) {
          settler.resolve(result);
          return;
        }
        setTimeout(() => {
          settler.reject(new ApiError('stream_ended', `${call.command} finished without a result.`));
        }, this.#graceMs);
      },
      (e: unknown) => settler.reject(toApiError(e, 'command_failed')),
    );
    return {
      done: settler.done,
      stop: () => {
        if (settler.settled) return;
        settler.reject(new ApiError(ABORTED, 'Stopped'));
        if (call.stop) {
          // Fire and forget: the answer is already marked stopped on this side either way.
          invoke(call.stop.command, call.stop.args).catch(() => undefined);
        }
      },
    };
  }

  /**
   * Bytes from a file picker (which gives no native path). Tauri takes a raw body only as the whole
   * payload, so the arguments travel as `x-doctalk-*` headers (URI-encoded, headers being ASCII)
   * and there is no channel: the command's return value is the final result, without progress.
   */
  #rawUpload(call: Call, raw: Blob, settler: StreamSettler): void {
    invokeRaw<unknown>(call, raw).then(
      (result) => settler.resolve(result),
      (e: unknown) => settler.reject(toApiError(e, 'command_failed')),
    );
  }
}

/** A command whose body is raw bytes, its arguments as URI-encoded `x-doctalk-*` headers. */
async function invokeRaw<T>(call: Call, raw: Blob): Promise<T> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(call.args ?? {})) {
    if (value !== undefined) headers[`x-doctalk-${key}`] = encodeURIComponent(String(value));
  }
  const bytes = await raw.arrayBuffer();
  return invoke<T>(call.command, new Uint8Array(bytes), { headers });
}

function toStreamEvent(message: unknown): StreamEvent {
  if (typeof message === 'object' && message !== null && 'event' in message) {
    const m = message as { event: unknown; data?: unknown };
    if (typeof m.event === 'string') return { event: m.event, data: m.data };
  }
  return { event: 'message', data: message };
}

/** A command returning bytes gives an ArrayBuffer (tauri::ipc::Response) or, from a plain
 * `Vec<u8>`, a JSON array of numbers; both become an ArrayBuffer. */
function toArrayBuffer(value: unknown): ArrayBuffer {
  if (value instanceof ArrayBuffer) return value;
  if (ArrayBuffer.isView(value)) {
    const copy = new Uint8Array(value.byteLength);
    copy.set(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
    return copy.buffer;
  }
  if (Array.isArray(value)) return Uint8Array.from(value as number[]).buffer;
  throw new ApiError('bad_response', 'The file command did not return bytes.');
}
