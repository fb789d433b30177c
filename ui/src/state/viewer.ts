// What the source panel shows, whichever way it was opened (a citation chip, a source in the list,
// a search hit, a document row), and which viewer fits it.

import type { DocumentInfo, SearchHit, Source, SourceKind } from '../api/types';
import { isPdfPath } from '../lib/format';

export interface ViewerTarget {
  docId: string;
  path: string;
  title: string;
  /** 1-based page for paged formats. */
  page: number | null;
  kind: SourceKind;
  /** The passage to find and highlight; '' to show a document without a passage. */
  text: string;
  headingPath: string[];
  /** FAQ row, 1-based. */
  row: number | null;
  /** FAQ parts when known separately (search hits carry them). */
  question?: string;
  answer?: string | null;
  /** The citation number, when opened from an answer. */
  n?: number;
}

export function fromSource(s: Source): ViewerTarget {
  return {
    docId: s.doc_id,
    path: s.path,
    title: s.title,
    page: s.page ?? null,
    kind: s.kind,
    text: s.text ?? '',
    headingPath: Array.isArray(s.heading_path) ? s.heading_path : [],
    row: s.row ?? null,
    n: s.n,
  };
}

export function fromHit(h: SearchHit): ViewerTarget {
  return {
    docId: h.doc_id,
    path: h.path,
    title: h.title,
    page: h.page ?? null,
    kind: h.kind,
    text: h.text ?? '',
    headingPath: Array.isArray(h.heading_path) ? h.heading_path : [],
    row: null,
    question: Array.isArray(h.questions) ? h.questions[0] : undefined,
    answer: h.answer ?? null,
  };
}

export function fromDocument(d: DocumentInfo): ViewerTarget {
  return { docId: d.id, path: d.path, title: d.title, page: 1, kind: 'passage', text: '', headingPath: [], row: null };
}

export type ViewerKind = 'pdf' | 'qa' | 'text';

export function viewerKind(target: ViewerTarget, docs: readonly DocumentInfo[]): ViewerKind {
  if (target.kind === 'qa') return 'qa';
  const doc = docs.find((d) => d.id === target.docId);
  if (isPdfPath(target.path) || doc?.format.toLowerCase() === 'pdf') return 'pdf';
  return 'text';
}

/** An FAQ source's text is "question\nanswer"; search hits give both parts separately. */
export function splitQa(target: ViewerTarget): { question: string; answer: string } {
  if (target.question !== undefined && target.answer !== undefined && target.answer !== null) {
    return { question: target.question, answer: target.answer };
  }
  const at = target.text.indexOf('\n');
  if (at === -1) return { question: target.text, answer: '' };
  return { question: target.text.slice(0, at), answer: target.text.slice(at + 1) };
}
