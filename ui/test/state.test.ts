import { describe, expect, it } from 'vitest';
import { ApiError, toApiError } from '../src/api/errors';
import type { DocumentInfo } from '../src/api/types';
import { reuseUnchanged } from '../src/state/useDocuments';
import { fromSource, splitQa, viewerKind } from '../src/state/viewer';

const doc = (id: string, chunks = 1, format = 'pdf'): DocumentInfo => ({
  id,
  path: `/d/${id}.${format}`,
  also_at: [],
  title: id,
  format,
  pages: 1,
  chunks,
  size_bytes: 10,
  embedding_model: 'm',
  ingested_at_ms: 1,
});

describe('toApiError', () => {
  it('reads every error shape the transports meet', () => {
    expect(toApiError({ error: { code: 'not_found', message: 'gone' } })).toMatchObject({ code: 'not_found', message: 'gone' });
    expect(toApiError({ code: 'busy', message: 'later', details: 1 })).toMatchObject({ code: 'busy', details: 1 });
    expect(toApiError('command not found', 'command_failed')).toMatchObject({ code: 'command_failed', message: 'command not found' });
    expect(toApiError(new TypeError('boom'))).toMatchObject({ code: 'unknown', message: 'boom' });
    const same = new ApiError('x', 'y');
    expect(toApiError(same)).toBe(same);
  });
});

describe('reuseUnchanged', () => {
  it('keeps the old object for an unchanged document and takes new ones otherwise', () => {
    const a = doc('a');
    const b = doc('b');
    const next = reuseUnchanged([a, b], [doc('a'), doc('b', 5), doc('c')]);
    expect(next[0]).toBe(a);
    expect(next[1]).not.toBe(b);
    expect(next[1]!.chunks).toBe(5);
    expect(next.map((d) => d.id)).toEqual(['a', 'b', 'c']);
  });
});

describe('viewer', () => {
  const source = {
    n: 3,
    path: '/kb/Policy.PDF',
    title: 'Policy',
    page: 4,
    text: 'Q?\nA.',
    kind: 'passage' as const,
    doc_id: 'd1',
    chunk_id: 'c',
    heading_path: ['1', '1.2'],
    row: null,
    score: 1,
  };

  it('picks the PDF viewer by extension (any case) or by document format', () => {
    expect(viewerKind(fromSource(source), [])).toBe('pdf');
    expect(viewerKind(fromSource({ ...source, path: '/kb/upload-123' }), [doc('d1', 1, 'pdf')])).toBe('pdf');
    expect(viewerKind(fromSource({ ...source, path: '/kb/notes.md' }), [doc('d1', 1, 'markdown')])).toBe('text');
    expect(viewerKind(fromSource({ ...source, kind: 'qa' }), [])).toBe('qa');
  });

  it('splits an FAQ source into question and answer', () => {
    expect(splitQa(fromSource({ ...source, kind: 'qa', text: '如何下载？\n在应用商店搜索。\n第二行' }))).toEqual({
      question: '如何下载？',
      answer: '在应用商店搜索。\n第二行',
    });
  });
});
