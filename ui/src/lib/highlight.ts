// Finds which text items of a PDF page hold a cited passage, so the viewer can mark their spans.
//
// The passage comes from DocTalk's own parser and the items from pdf.js, so the two rarely agree on
// whitespace: items split words, lines end with or without a space, and Chinese has no spaces at all.
// So both sides are compared with all whitespace removed (after NFKC, which also folds full-width
// forms). An exact match of the passage marks exactly the items it covers. Otherwise (the passage
// runs onto the next page, or the parser de-hyphenated or reordered text) the best contiguous run of
// items is chosen by how many of their tokens occur in the passage, tokens being words for
// alphabetic scripts and character pairs for Chinese, Japanese and Korean.

export interface HighlightMatch {
  /** Indices into the item list, ascending. */
  items: number[];
  exact: boolean;
}

const NONE: HighlightMatch = { items: [], exact: false };

function fold(s: string): string {
  return s.normalize('NFKC').toLowerCase();
}

function squash(s: string): string {
  return fold(s).replace(/\s+/gu, '');
}

export function findPassage(items: readonly string[], passage: string): HighlightMatch {
  const target = squash(passage);
  if (!target) return NONE;
  const exact = exactMatch(items, target);
  if (exact.length > 0) return { items: exact, exact: true };
  const fuzzy = bestRun(items, passage);
  return fuzzy.length > 0 ? { items: fuzzy, exact: false } : NONE;
}

/** Items covering the first occurrence of `target` in the page's squashed text. */
function exactMatch(items: readonly string[], target: string): number[] {
  let page = '';
  const owner: number[] = []; // owner[i] = index of the item that page[i] came from
  items.forEach((item, index) => {
    const s = squash(item);
    page += s;
    for (let k = 0; k < s.length; k++) owner.push(index);
  });
  const at = page.indexOf(target);
  if (at === -1) return [];
  const first = owner[at] ?? 0;
  const last = owner[at + target.length - 1] ?? first;
  const out: number[] = [];
  for (let i = first; i <= last; i++) {
    // Whitespace-only items inside the range are included too, so the highlight has no gaps.
    out.push(i);
  }
  return out;
}

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

/** Words of letters/digits for alphabetic text; overlapping character pairs for CJK runs. */
export function tokens(text: string): string[] {
  const out: string[] = [];
  for (const run of fold(text).match(/[\p{L}\p{N}]+/gu) ?? []) {
    let latin = '';
    let cjk = '';
    const flushLatin = () => {
      if (latin.length > 1 || /\d/.test(latin)) out.push(latin);
      latin = '';
    };
    const flushCjk = () => {
      if (cjk.length === 1) out.push(cjk);
      for (let i = 0; i + 1 < cjk.length; i++) out.push(cjk.slice(i, i + 2));
      cjk = '';
    };
    for (const ch of run) {
      if (CJK.test(ch)) {
        flushLatin();
        cjk += ch;
      } else {
        flushCjk();
        latin += ch;
      }
    }
    flushLatin();
    flushCjk();
  }
  return out;
}

/**
 * The contiguous run of items whose tokens best agree with the passage: each item scores
 * (tokens found in the passage) − (tokens not found), and the run with the largest sum wins
 * (Kadane's maximum subarray). Neutral items (blank, punctuation) neither help nor hurt, so a run can
 * cross them. A run must share at least two tokens, else nothing is marked: no highlight is better
 * than a wrong one.
 */
function bestRun(items: readonly string[], passage: string): number[] {
  const wanted = new Set(tokens(passage));
  if (wanted.size === 0) return [];
  const scores = items.map((item) => {
    let score = 0;
    let hits = 0;
    for (const t of tokens(item)) {
      if (wanted.has(t)) {
        score += 1;
        hits += 1;
      } else {
        score -= 1;
      }
    }
    return { score, hits };
  });

  let best = { sum: 0, hits: 0, start: -1, end: -1 };
  let sum = 0;
  let hits = 0;
  let start = 0;
  scores.forEach(({ score, hits: h }, i) => {
    if (sum <= 0) {
      sum = 0;
      hits = 0;
      start = i;
    }
    sum += score;
    hits += h;
    if (sum > best.sum) best = { sum, hits, start, end: i };
  });
  if (best.start < 0 || best.hits < 2) return [];
  // Trim items at the run's edges that matched nothing (a blank item started the run).
  let { start: from, end: to } = best;
  while (from < to && (scores[from]?.hits ?? 0) === 0) from++;
  while (to > from && (scores[to]?.hits ?? 0) === 0) to--;
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(i);
  return out;
}
