import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../src/api/errors';
import { HttpTransport } from '../src/api/http';
import { LibraryClient } from '../src/api/library';
import { ChatClient } from '../src/api/chat';
import type { StreamEvent } from '../src/api/transport';

/** A response body the test feeds piece by piece; it errors when the request is aborted. */
function controlledBody(signal?: AbortSignal | null) {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const encoder = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
  });
  signal?.addEventListener('abort', () => controller.error(new DOMException('The user aborted a request.', 'AbortError')));
  return {
    stream,
    push: (text: string) => controller.enqueue(encoder.encode(text)),
    close: () => controller.close(),
  };
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe('HttpTransport requests', () => {
  it('sends JSON with the bearer token and kb, and parses the reply', async () => {
    const fetch = vi.fn(async (_url: RequestInfo | URL, _init?: RequestInit) => json([{ id: 'd1' }]));
    const t = new HttpTransport({ fetch, token: 'secret' });
    const docs = await new LibraryClient(t, () => 'work').documents();
    expect(docs).toEqual([{ id: 'd1' }]);
    const [url, init] = fetch.mock.calls[0]!;
    expect(url).toBe('/api/documents?kb=work');
    expect((init?.headers as Record<string, string>).Authorization).toBe('Bearer secret');
    expect(init?.method).toBe('GET');
  });

  it('maps the JSON error body to an ApiError', async () => {
    const fetch = vi.fn(async () => json({ error: { code: 'bad_request', message: 'invalid name', type: 'bad_request' } }, 400));
    const t = new HttpTransport({ fetch });
    const error = await new LibraryClient(t, () => undefined).createKb('no spaces').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 'bad_request', message: 'invalid name' });
  });

  it('maps a non-JSON 413 to payload_too_large', async () => {
    const fetch = vi.fn(async () => new Response('length limit exceeded', { status: 413 }));
    const t = new HttpTransport({ fetch });
    const handle = new LibraryClient(t, () => undefined).ingestFile(new Blob(['x']), 'big.pdf', () => undefined);
    await expect(handle.done).rejects.toMatchObject({ code: 'payload_too_large', message: 'length limit exceeded' });
  });

  it("sends a PDF's password as an encoded header, never in the URL", async () => {
    const fetch = vi.fn(async () => new Response('event: done\ndata: {"files":[]}\n\n', { headers: { 'Content-Type': 'text/event-stream' } }));
    const t = new HttpTransport({ fetch });
    const handle = new LibraryClient(t, () => undefined).ingestFile(new Blob(['%PDF']), 'a.pdf', () => undefined, '密码 Ⅸ');
    await handle.done;
    const [url, init] = fetch.mock.calls[0]! as unknown as [string, RequestInit];
    expect(url).toBe('/api/ingest?name=a.pdf');
    expect((init.headers as Record<string, string>)['x-doctalk-password']).toBe(encodeURIComponent('密码 Ⅸ'));
    // Without a password no such header is sent.
    new LibraryClient(t, () => undefined).ingestFile(new Blob(['%PDF']), 'b.pdf', () => undefined);
    await flush();
    const [, plain] = fetch.mock.calls[1]! as unknown as [string, RequestInit];
    expect(Object.keys(plain.headers as Record<string, string>)).not.toContain('x-doctalk-password');
  });

  it('turns a network failure into an ApiError', async () => {
    const fetch = vi.fn(async () => {
      throw new TypeError('Failed to fetch');
    });
    const t = new HttpTransport({ fetch });
    await expect(new LibraryClient(t, () => undefined).health()).rejects.toMatchObject({ code: 'network' });
  });

  it('uploads raw bytes with the file name in the query', async () => {
    const fetch = vi.fn(async (_url: RequestInfo | URL, init?: RequestInit) => {
      const body = controlledBody(init?.signal);
      body.push('event: done\ndata: {"files":[]}\n\n');
      body.close();
      return new Response(body.stream, { headers: { 'Content-Type': 'text/event-stream' } });
    });
    const t = new HttpTransport({ fetch });
    const file = new Blob(['%PDF-1.7']);
    await new LibraryClient(t, () => undefined).ingestFile(file, '员工 手册.pdf', () => undefined).done;
    const [url, init] = fetch.mock.calls[0]!;
    expect(url).toBe('/api/ingest?name=%E5%91%98%E5%B7%A5+%E6%89%8B%E5%86%8C.pdf');
    expect(init?.body).toBe(file);
    expect((init?.headers as Record<string, string>)['Content-Type']).toBe('application/octet-stream');
  });
});

describe('HttpTransport streams', () => {
  it('delivers events in order, across chunk boundaries, and resolves with done', async () => {
    let body!: ReturnType<typeof controlledBody>;
    const fetch = vi.fn(async (_url: RequestInfo | URL, init?: RequestInit) => {
      body = controlledBody(init?.signal);
      return new Response(body.stream, { headers: { 'Content-Type': 'text/event-stream' } });
    });
    const chat = new ChatClient(new HttpTransport({ fetch }), () => undefined);
    const seen: string[] = [];
    const handle = chat.ask({ question: 'q', conversation: 'new' }, (e) =>
      seen.push(e.event === 'token' ? `token:${e.data.text}` : e.event),
    );
    await flush();
    body.push('event: query\ndata: {"query":"q2"}\n\nevent: sour');
    body.push('ces\ndata: []\n\nevent: token\ndata: {"text":"Hel');
    body.push('lo"}\r\n\r\nevent: token\ndata: {"text":" [1]"}\n\n');
    body.push('event: done\ndata: {"answer":"Hello [1]","cancelled":false}\n\n');
    const answer = await handle.done;
    expect(seen).toEqual(['query', 'sources', 'token:Hello', 'token: [1]']);
    expect(answer).toMatchObject({ answer: 'Hello [1]' });
    const init = fetch.mock.calls[0]![1];
    expect(JSON.parse(init?.body as string)).toEqual({ question: 'q', conversation: 'new' });
  });

  it('rejects with the error event as an ApiError', async () => {
    const fetch = vi.fn(async () => {
      const body = controlledBody();
      body.push('event: error\ndata: {"code":"answer_failed","message":"model crashed"}\n\n');
      return new Response(body.stream);
    });
    const t = new HttpTransport({ fetch });
    const handle = t.stream({ method: 'POST', path: '/api/ask/stream', command: 'ask_stream' }, () => undefined);
    await expect(handle.done).rejects.toMatchObject({ code: 'answer_failed', message: 'model crashed' });
  });

  it('aborts the request on stop and rejects with "aborted"', async () => {
    let signal: AbortSignal | null | undefined;
    let body!: ReturnType<typeof controlledBody>;
    const fetch = vi.fn(async (_url: RequestInfo | URL, init?: RequestInit) => {
      signal = init?.signal;
      body = controlledBody(signal);
      return new Response(body.stream);
    });
    const events: StreamEvent[] = [];
    const handle = new HttpTransport({ fetch }).stream(
      { method: 'POST', path: '/api/ask/stream', command: 'ask_stream' },
      (e) => events.push(e),
    );
    await flush();
    body.push('event: token\ndata: {"text":"partial"}\n\n');
    await flush();
    handle.stop();
    await expect(handle.done).rejects.toMatchObject({ code: 'aborted' });
    expect(signal?.aborted).toBe(true);
    expect(events).toEqual([{ event: 'token', data: { text: 'partial' } }]);
  });

  it('rejects when the connection closes before done', async () => {
    const fetch = vi.fn(async () => {
      const body = controlledBody();
      body.push('event: token\ndata: {"text":"a"}\n\n');
      body.close();
      return new Response(body.stream);
    });
    const handle = new HttpTransport({ fetch }).stream({ method: 'POST', path: '/x', command: 'x' }, () => undefined);
    await expect(handle.done).rejects.toMatchObject({ code: 'stream_ended' });
  });
});
