// The questions of "Check answers" as a person types them: one per line, the question, then the
// facts a right answer states, separated by " | ":
//
//   中午几点开始午休？ | 12点 | 十二点
//   公司有班车吗？ | -            (a single "-": the documents do not say; the right answer refuses)
//
// A pasted question file (JSON Lines, as `doctalk bench answers` reads) is passed through whole for
// the server to read, so both doors accept the same files and report the same line numbers.

import type { CheckRequest, QaCase } from '../api/types';

export type ChecklistResult = { ok: true; request: CheckRequest; count: number } | { ok: false; line: number; reason: 'noFacts' | 'empty' };

/** The mark for "not in the documents". */
export const UNANSWERABLE = '-';

export function parseChecklist(text: string): ChecklistResult {
  const lines = text.split(/\r?\n/);
  const meaningful = lines.map((l) => l.trim()).filter((l) => l && !l.startsWith('//'));
  if (meaningful.length === 0) return { ok: false, line: 0, reason: 'empty' };
  if (meaningful.every((l) => l.startsWith('{'))) {
    return { ok: true, request: { jsonl: text }, count: meaningful.length };
  }
  const questions: QaCase[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (!line || line.startsWith('//')) continue;
    const [first, ...rest] = line.split(/\s*[|｜]\s*/);
    const q = first ?? '';
    const facts = rest.map((f) => f.trim()).filter(Boolean);
    if (facts.length === 1 && facts[0] === UNANSWERABLE) {
      questions.push({ q: q.trim(), unanswerable: true });
    } else if (facts.length === 0 || !q.trim()) {
      return { ok: false, line: i + 1, reason: 'noFacts' };
    } else {
      questions.push({ q: q.trim(), expect_any: facts });
    }
  }
  return { ok: true, request: { questions }, count: questions.length };
}

/** A rate as a whole percentage, or a dash when nothing counted toward it. */
export function percent(rate: number | null | undefined): string {
  return rate === null || rate === undefined ? '–' : `${Math.round(rate * 100)}%`;
}
