import { describe, expect, it } from 'vitest';
import { findPassage, tokens } from '../src/lib/highlight';

describe('findPassage (English)', () => {
  const items = [
    'IT Security Policy',
    ' ',
    '3.2 Passwords',
    'Passwords must be at least 12 char',
    'acters long and are changed every ',
    '90 days.',
    'Contact the helpdesk for a reset.',
  ];

  it('marks exactly the items an exact passage covers, across split words and spaces', () => {
    const match = findPassage(items, 'Passwords must be at least 12 characters long and are changed every 90 days.');
    expect(match).toEqual({ items: [3, 4, 5], exact: true });
  });

  it('ignores case and differing whitespace', () => {
    expect(findPassage(items, 'contact  the\nHELPDESK for a reset')).toEqual({ items: [6], exact: true });
  });

  it('falls back to the items sharing the most words when the text differs', () => {
    const match = findPassage(items, 'Passwords must have at least twelve characters and be changed every 90 days');
    expect(match.exact).toBe(false);
    expect(match.items).toContain(3);
    expect(match.items).not.toContain(0);
    expect(match.items).not.toContain(6);
  });

  it('marks nothing when the passage is not on the page', () => {
    expect(findPassage(items, 'Quarterly revenue grew in the northern region')).toEqual({ items: [], exact: false });
    expect(findPassage(items, '   ')).toEqual({ items: [], exact: false });
  });
});

describe('findPassage (Chinese)', () => {
  const items = ['第三章 差旅管理', '3.1 出差补助标准', '员工出差期间，每天', '餐费补助为 100 元，', '住宿费按城市级别报销。', '第四章 考勤'];

  it('matches without spaces across item boundaries', () => {
    expect(findPassage(items, '员工出差期间，每天餐费补助为100元，住宿费按城市级别报销。')).toEqual({
      items: [2, 3, 4],
      exact: true,
    });
  });

  it('folds full-width digits and punctuation (NFKC)', () => {
    expect(findPassage(items, '餐费补助为１００元')).toEqual({ items: [3], exact: true });
  });

  it('falls back to the run sharing the most characters', () => {
    // Paraphrased: no exact match, but most character pairs are shared with items 2 and 3.
    const match = findPassage(items, '员工出差期间每天的餐费补助是100元');
    expect(match.exact).toBe(false);
    expect(match.items).toEqual([2, 3]);
  });

  it('tokenises Chinese into character pairs and other scripts into words', () => {
    expect(tokens('餐费补助 for Staff')).toEqual(['餐费', '费补', '补助', 'for', 'staff']);
  });
});
