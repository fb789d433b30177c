import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChatClient } from '../src/api/chat';
import { LibraryClient } from '../src/api/library';
import { pickTransport } from '../src/api/pick';
import { TauriTransport } from '../src/api/tauri';
import { HttpTransport } from '../src/api/http';

/**
 * A stand-in for what the Tauri webview injects: `transformCallback` registers callbacks (Channels
 * use it), `invoke` is answered by the test's handler, which can send on the channel it was given
 * exactly as the Rust side would: `{index, message}` and finally `{index, end: true}`.
 */
function installFakeTauri(handler: (cmd: string, args: Record<string, unknown>, send: (channelArg: unknown, messages: unknown[]) => void) => unknown) {
  const callbacks = new Map<number, (payload: unknown) => void>();
  let next = 1;
  const send = (channelArg: unknown, messages: unknown[]) => {
    const id = (channelArg as { id: number }).id;
    const callback = callbacks.get(id);
    if (!callback) throw new Error(`no channel ${id}`);
    messages.forEach((message, index) => callback({ index, message }));
    callback({ index: messages.length, end: true });
  };
  const invoke = vi.fn(async (cmd: string, args: Record<string, unknown>) => handler(cmd, args, send));
  (window as unknown as Record<string, unknown>).__TAURI_INTERNALS__ = {
    transformCallback: (cb: (payload: unknown) => void) => {
      const id = next++;
      callbacks.set(id, cb);
      return id;
    },
    unregisterCallback: (id: number) => callbacks.delete(id),
    invoke,
  };
  return invoke;
}

afterEach(() => {
  delete (window as unknown as Record<string, unknown>).__TAURI_INTERNALS__;
});

describe('TauriTransport', () => {
  it('is chosen when __TAURI_INTERNALS__ exists, HTTP otherwise', () => {
    expect(pickTransport(window)).toBeInstanceOf(HttpTransport);
    installFakeTauri(() => null);
    expect(pickTransport(window)).toBeInstanceOf(TauriTransport);
  });

  it('invokes the mirrored command with its arguments and kb', async () => {
    const invoke = installFakeTauri((cmd) => (cmd === 'documents_list' ? [{ id: 'a' }] : null));
    const docs = await new LibraryClient(new TauriTransport(), () => 'personal').documents();
    expect(docs).toEqual([{ id: 'a' }]);
    expect(invoke).toHaveBeenCalledWith('documents_list', { kb: 'personal' }, undefined);
  });

  it('maps a command rejection {code, message, details} to ApiError', async () => {
    installFakeTauri(() => {
      throw { code: 'not_found', message: 'no such document', details: { id: 'x' } };
    });
    await expect(new LibraryClient(new TauriTransport(), () => undefined).removeDocument('x')).rejects.toMatchObject({
      code: 'not_found',
      message: 'no such document',
      details: { id: 'x' },
    });
  });

  it('maps channel messages to the same events as SSE, in order, and resolves with done', async () => {
    const answer = { answer: 'A [1]', cancelled: false, conversation: 'c1' };
    const invoke = installFakeTauri((cmd, args, send) => {
      expect(cmd).toBe('ask_stream');
      send(args.onEvent, [
        { event: 'query', data: { query: 'rewritten' } },
        { event: 'sources', data: [{ n: 1 }] },
        { event: 'token', data: { text: 'A ' } },
        { event: 'token', data: { text: '[1]' } },
        { event: 'done', data: answer },
      ]);
      return null;
    });
    const seen: unknown[] = [];
    const handle = new ChatClient(new TauriTransport(), () => 'kb1').ask({ question: 'q' }, (e) => seen.push(e));
    await expect(handle.done).resolves.toEqual(answer);
    expect(seen).toEqual([
      { event: 'query', data: { query: 'rewritten' } },
      { event: 'sources', data: [{ n: 1 }] },
      { event: 'token', data: { text: 'A ' } },
      { event: 'token', data: { text: '[1]' } },
    ]);
    const args = invoke.mock.calls[0]![1];
    expect(args).toMatchObject({ request: { question: 'q' }, kb: 'kb1' });
    expect(typeof args.requestId).toBe('string');
  });

  it('rejects with the error message sent on the channel', async () => {
    installFakeTauri((_cmd, args, send) => {
      send(args.onEvent, [{ event: 'error', data: { code: 'ingest_failed', message: 'disk full' } }]);
      return null;
    });
    const handle = new LibraryClient(new TauriTransport(), () => undefined).installSample(() => undefined);
    await expect(handle.done).rejects.toMatchObject({ code: 'ingest_failed', message: 'disk full' });
  });

  it('stops an answer with ask_stop and the same request id', async () => {
    let release!: () => void;
    const invoke = installFakeTauri((cmd) => {
      if (cmd === 'ask_stream') return new Promise<null>((r) => (release = () => r(null)));
      return null;
    });
    const handle = new ChatClient(new TauriTransport(), () => undefined).ask({ question: 'q' }, () => undefined);
    handle.stop();
    await expect(handle.done).rejects.toMatchObject({ code: 'aborted' });
    const askId = invoke.mock.calls[0]![1].requestId;
    expect(invoke).toHaveBeenCalledWith('ask_stop', { requestId: askId }, undefined);
    release();
  });

  it('uses the command result when it returns one without a done message', async () => {
    installFakeTauri(() => ({ files: [] }));
    const handle = new LibraryClient(new TauriTransport(), () => undefined).reindex('d1', () => undefined);
    await expect(handle.done).resolves.toEqual({ files: [] });
  });

  it('returns document bytes as an ArrayBuffer whether sent raw or as a number array', async () => {
    installFakeTauri(() => [37, 80, 68, 70]);
    const bytes = await new LibraryClient(new TauriTransport(), () => undefined).documentFile('d1');
    expect(new TextDecoder().decode(bytes)).toBe('%PDF');
  });
});
