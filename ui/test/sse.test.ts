import { describe, expect, it } from 'vitest';
import { SseParser, type SseMessage } from '../src/api/sse';

function parseChunks(chunks: string[]): SseMessage[] {
  const out: SseMessage[] = [];
  const parser = new SseParser((m) => out.push(m));
  for (const c of chunks) parser.push(c);
  parser.end();
  return out;
}

/** Every way of cutting `text` into two pieces must give the same events as the whole text. */
function everySplit(text: string): SseMessage[][] {
  const results: SseMessage[][] = [];
  for (let i = 0; i <= text.length; i++) results.push(parseChunks([text.slice(0, i), text.slice(i)]));
  return results;
}

describe('SseParser', () => {
  it('parses named events with JSON data', () => {
    const events = parseChunks(['event: token\ndata: {"text":"Hi"}\n\nevent: done\ndata: {"ok":true}\n\n']);
    expect(events).toEqual([
      { event: 'token', data: '{"text":"Hi"}' },
      { event: 'done', data: '{"ok":true}' },
    ]);
  });

  it('gives the same events whatever the chunk boundaries (LF)', () => {
    const text = 'event: query\ndata: {"query":"出差 餐补"}\n\n: keep-alive\n\nevent: token\ndata: {"text":"a"}\n\n';
    const expected = parseChunks([text]);
    expect(expected).toHaveLength(2);
    for (const result of everySplit(text)) expect(result).toEqual(expected);
  });

  it('gives the same events whatever the chunk boundaries (CRLF, including between CR and LF)', () => {
    const text = 'event: token\r\ndata: {"text":"x"}\r\n\r\nevent: done\r\ndata: {}\r\n\r\n';
    const expected = [
      { event: 'token', data: '{"text":"x"}' },
      { event: 'done', data: '{}' },
    ];
    for (const result of everySplit(text)) expect(result).toEqual(expected);
  });

  it('handles one character per chunk', () => {
    const text = 'event: token\r\ndata: {"text":"中文"}\r\n\r\n';
    expect(parseChunks([...text])).toEqual([{ event: 'token', data: '{"text":"中文"}' }]);
  });

  it('joins multi-line data with newlines', () => {
    expect(parseChunks(['data: line one\ndata: line two\ndata:\ndata:  indented\n\n'])).toEqual([
      { event: 'message', data: 'line one\nline two\n\n indented' },
    ]);
  });

  it('accepts lone CR line endings', () => {
    expect(parseChunks(['event: a\rdata: 1\r\revent: b\rdata: 2\r\r'])).toEqual([
      { event: 'a', data: '1' },
      { event: 'b', data: '2' },
    ]);
  });

  it('ignores comments, events without data, and an unterminated last event', () => {
    expect(parseChunks([': comment\n\nevent: empty\n\nevent: cut\ndata: {"partial":'])).toEqual([]);
  });

  it('resets the event name after each dispatch and keeps ids', () => {
    expect(parseChunks(['event: x\nid: 7\ndata: 1\n\ndata: 2\n\n'])).toEqual([
      { event: 'x', data: '1', id: '7' },
      { event: 'message', data: '2', id: '7' },
    ]);
  });
});
