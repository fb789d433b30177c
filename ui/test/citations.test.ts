import { describe, expect, it } from 'vitest';
import { parseCitations } from '../src/lib/citations';

const known = new Set([1, 2, 3]);

describe('parseCitations', () => {
  it('turns [1][2] into two chips between the text', () => {
    expect(parseCitations('每天餐补100元[1][2]。', known)).toEqual([
      { kind: 'text', text: '每天餐补100元' },
      { kind: 'cite', n: 1 },
      { kind: 'cite', n: 2 },
      { kind: 'text', text: '。' },
    ]);
  });

  it('accepts comma-separated lists', () => {
    expect(parseCitations('See [1, 3].', known)).toEqual([
      { kind: 'text', text: 'See ' },
      { kind: 'cite', n: 1 },
      { kind: 'cite', n: 3 },
      { kind: 'text', text: '.' },
    ]);
  });

  it('leaves numbers without a source as text', () => {
    expect(parseCitations('Step [7] then [2]', known)).toEqual([
      { kind: 'text', text: 'Step [7] then ' },
      { kind: 'cite', n: 2 },
    ]);
    expect(parseCitations('[1, 9]', known)).toEqual([{ kind: 'text', text: '[1, 9]' }]);
  });

  it('returns plain text when there are no sources yet (mid-stream) or no markers', () => {
    expect(parseCitations('Hello [1]', new Set())).toEqual([{ kind: 'text', text: 'Hello [1]' }]);
    expect(parseCitations('Plain', known)).toEqual([{ kind: 'text', text: 'Plain' }]);
    expect(parseCitations('', known)).toEqual([]);
  });

  it('leaves a half-streamed marker alone', () => {
    expect(parseCitations('Answer [1', known)).toEqual([{ kind: 'text', text: 'Answer [1' }]);
  });
});
