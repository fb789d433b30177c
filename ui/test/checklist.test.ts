import { describe, expect, it } from 'vitest';
import { parseChecklist, percent } from '../src/lib/checklist';

describe('parseChecklist', () => {
  it('reads question | fact | fact lines, and "-" as unanswerable', () => {
    const r = parseChecklist('中午几点开始午休？ | 12点 | 十二点\n\n// a comment\n公司有班车吗？｜-\nVPN timeout?|30 minutes');
    expect(r).toEqual({
      ok: true,
      count: 3,
      request: {
        questions: [
          { q: '中午几点开始午休？', expect_any: ['12点', '十二点'] },
          { q: '公司有班车吗？', unanswerable: true },
          { q: 'VPN timeout?', expect_any: ['30 minutes'] },
        ],
      },
    });
  });

  it('names the line that has no expected fact', () => {
    expect(parseChecklist('ok? | 1\n\nno facts here')).toEqual({ ok: false, line: 3, reason: 'noFacts' });
    expect(parseChecklist('a | ')).toEqual({ ok: false, line: 1, reason: 'noFacts' });
    expect(parseChecklist(' | 12点')).toEqual({ ok: false, line: 1, reason: 'noFacts' });
  });

  it('says so when there is nothing to ask', () => {
    expect(parseChecklist('  \n// only a comment\n')).toEqual({ ok: false, line: 0, reason: 'empty' });
  });

  it('passes a JSON Lines question file through whole, for the server to read and report on', () => {
    const text = '{"q": "午休几点？", "expect_any": ["12点"]}\n{"q": "班车？", "unanswerable": true}\n';
    expect(parseChecklist(text)).toEqual({ ok: true, count: 2, request: { jsonl: text } });
  });
});

describe('percent', () => {
  it('rounds rates and shows a dash for none', () => {
    expect(percent(0.8456)).toBe('85%');
    expect(percent(null)).toBe('–');
    expect(percent(1)).toBe('100%');
  });
});
