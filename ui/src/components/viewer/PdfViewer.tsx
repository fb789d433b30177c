// Shows a PDF source: fetches the original file, renders the cited page (canvas + text layer),
// marks the cited passage in the text layer and scrolls to it. `data-ready="true"` tells tests (and
// screen readers' users, via aria-busy) that the page and its text layer are in place.

import { useEffect, useRef, useState } from 'preact/hooks';
import { toApiError } from '../../api/errors';
import { findPassage } from '../../lib/highlight';
import { useServices } from '../../state/context';
import type { ViewerTarget } from '../../state/viewer';

type PdfModule = typeof import('../../lib/pdf');

interface Loaded {
  pdf: PdfModule;
  doc: import('../../lib/pdf').PDFDocumentProxy;
}

export function PdfViewer({ target }: { target: ViewerTarget }) {
  const { api, t } = useServices();
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [page, setPage] = useState(target.page ?? 1);
  // What the canvas and text layer currently show. "Ready" is derived from it rather than kept as a
  // flag, so that data-page and data-ready change in the same render and never describe two
  // different pages.
  const [rendered, setRendered] = useState<{ page: number; target: ViewerTarget } | null>(null);
  const [matched, setMatched] = useState<boolean | null>(null);
  const scrollRef = useRef<HTMLDivElement>(null);
  const pageRef = useRef<HTMLDivElement>(null);

  // A new citation in the same document only moves to its page; the file is not fetched again.
  useEffect(() => setPage(target.page ?? 1), [target]);

  useEffect(() => {
    let alive = true;
    let opened: Loaded | null = null;
    setLoaded(null);
    setError(null);
    Promise.all([import('../../lib/pdf'), api.library.documentFile(target.docId)])
      .then(async ([pdf, bytes]) => {
        const doc = await pdf.openPdf(bytes);
        if (!alive) {
          pdf.closePdf(doc);
          return;
        }
        opened = { pdf, doc };
        setLoaded(opened);
      })
      .catch((e: unknown) => alive && setError(toApiError(e).message));
    return () => {
      alive = false;
      if (opened) opened.pdf.closePdf(opened.doc);
    };
  }, [api, target.docId]);

  useEffect(() => {
    const container = pageRef.current;
    if (!loaded || !container) return;
    const shown = Math.min(Math.max(1, page), loaded.doc.numPages);
    setMatched(null);
    const width = Math.max(320, (scrollRef.current?.clientWidth ?? 640) - 24);
    const render = loaded.pdf.renderPage(loaded.doc, shown, container, width);
    let alive = true;
    render.done
      .then(({ spans, items }) => {
        if (!alive) return;
        const onCitedPage = target.page === null || target.page === shown;
        if (target.text && onCitedPage) {
          const match = findPassage(items, target.text);
          match.items.forEach((i) => spans[i]?.classList.add('highlight'));
          setMatched(match.items.length > 0);
          const first = match.items[0];
          if (first !== undefined) spans[first]?.scrollIntoView({ block: 'center' });
        }
        setRendered({ page: shown, target });
      })
      .catch((e: unknown) => {
        // Cancelled because the page changed: the next render takes over.
        if (alive) setError(toApiError(e).message);
      });
    return () => {
      alive = false;
      render.cancel();
    };
  }, [loaded, page, target]);

  const total = loaded?.doc.numPages ?? 0;
  const shown = total > 0 ? Math.min(Math.max(1, page), total) : page;
  const ready = loaded !== null && rendered !== null && rendered.page === shown && rendered.target === target;
  return (
    <div
      class="pdf-viewer"
      data-testid="pdf-viewer"
      data-page={shown}
      data-ready={ready ? 'true' : 'false'}
      aria-busy={!ready}
    >
      <div class="pdf-toolbar">
        <button type="button" aria-label={t('prevPage')} title={t('prevPage')} disabled={shown <= 1} onClick={() => setPage(shown - 1)}>
          ‹
        </button>
        <span class="pdf-page-label">{total > 0 ? t('pageOf', { n: shown, total }) : t('loadingPdf')}</span>
        <button
          type="button"
          aria-label={t('nextPage')}
          title={t('nextPage')}
          disabled={total === 0 || shown >= total}
          onClick={() => setPage(shown + 1)}
        >
          ›
        </button>
      </div>
      {error && <p class="bad">{t('pdfFailed', { message: error })}</p>}
      <div class="pdf-scroll" ref={scrollRef}>
        <div class="pdf-page" ref={pageRef} />
      </div>
      {matched === false && (
        <div class="pdf-fallback">
          <p class="muted small">{t('noHighlight')}</p>
          <blockquote>{target.text}</blockquote>
        </div>
      )}
    </div>
  );
}
