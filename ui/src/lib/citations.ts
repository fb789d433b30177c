// Splits an answer's text into plain text and citation markers. `[1]`, `[1][2]` and `[1, 2]` cite
// sources 1 and 2; a number with no source of that number stays plain text (it is more likely a
// footnote or a list index in the document than a citation, and a chip leading nowhere would be a
// broken promise).

export type AnswerPart = { kind: 'text'; text: string } | { kind: 'cite'; n: number };

const MARKER = /\[(\d{1,3}(?:\s*[,，、]\s*\d{1,3})*)\]/g;

export function parseCitations(text: string, known: ReadonlySet<number>): AnswerPart[] {
  const parts: AnswerPart[] = [];
  let plain = '';
  let last = 0;
  for (const match of text.matchAll(MARKER)) {
    const numbers = (match[1] ?? '').split(/[,，、]/).map((s) => Number.parseInt(s.trim(), 10));
    // All or nothing: "[1, 7]" with no source 7 is left as typed rather than half-converted.
    if (!numbers.every((n) => known.has(n))) continue;
    plain += text.slice(last, match.index);
    if (plain) parts.push({ kind: 'text', text: plain });
    plain = '';
    for (const n of numbers) parts.push({ kind: 'cite', n });
    last = match.index + match[0].length;
  }
  plain += text.slice(last);
  if (plain) parts.push({ kind: 'text', text: plain });
  return parts;
}
