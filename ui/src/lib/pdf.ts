// pdf.js behind two functions: open a document from bytes, render one page (canvas + text layer)
// into a container. Imported lazily by the viewer, so the ~1 MB library is only loaded when a PDF
// source is first opened.

import {
  GlobalWorkerOptions,
  TextLayer,
  getDocument,
  type PDFDocumentProxy,
  type RenderTask,
} from 'pdfjs-dist';
// The worker is bundled as a local file: the CSP allows workers from 'self' only, never a CDN.
import workerUrl from 'pdfjs-dist/build/pdf.worker.min.mjs?url';

GlobalWorkerOptions.workerSrc = workerUrl;

export type { PDFDocumentProxy };

/** Where the build put pdf.js's data files (see vite.config.ts), as absolute URLs for the worker. */
function assetUrl(dir: string): string {
  return new URL(`pdfjs/${dir}/`, document.baseURI).href;
}

export function openPdf(data: ArrayBuffer): Promise<PDFDocumentProxy> {
  // `isEvalSupported` was removed in pdf.js 5 (it no longer compiles fonts with eval at all); it is
  // still passed so that an older pdf.js could never fall back to eval under a looser CSP.
  const params: Parameters<typeof getDocument>[0] & { isEvalSupported?: boolean } = {
    data,
    isEvalSupported: false,
    enableXfa: false,
    cMapUrl: assetUrl('cmaps'),
    cMapPacked: true,
    standardFontDataUrl: assetUrl('standard_fonts'),
    wasmUrl: assetUrl('wasm'),
    iccUrl: assetUrl('iccs'),
  };
  return getDocument(params).promise;
}

export interface RenderedPage {
  /** The text layer's spans, index-aligned with `items`. */
  spans: HTMLElement[];
  items: string[];
}

export interface PageRender {
  done: Promise<RenderedPage>;
  cancel(): void;
}

/**
 * Renders `pageNumber` at a scale that fits `width` CSS pixels into `container` (emptied first):
 * a canvas, and over it pdf.js's transparent text layer whose spans the viewer highlights.
 */
export function renderPage(doc: PDFDocumentProxy, pageNumber: number, container: HTMLElement, width: number): PageRender {
  let renderTask: RenderTask | null = null;
  let textLayer: TextLayer | null = null;
  let cancelled = false;

  const done = (async (): Promise<RenderedPage> => {
    const page = await doc.getPage(pageNumber);
    if (cancelled) throw new Error('cancelled');
    const base = page.getViewport({ scale: 1 });
    const scale = Math.min(3, Math.max(0.5, width / base.width));
    const viewport = page.getViewport({ scale });
    const ratio = window.devicePixelRatio || 1;

    container.replaceChildren();
    // pdf.js sizes the text layer from these variables (its own viewer sets them on each page).
    container.style.setProperty('--scale-factor', String(scale));
    container.style.width = `${Math.floor(viewport.width)}px`;
    container.style.height = `${Math.floor(viewport.height)}px`;

    const canvas = document.createElement('canvas');
    canvas.width = Math.floor(viewport.width * ratio);
    canvas.height = Math.floor(viewport.height * ratio);
    canvas.style.width = `${Math.floor(viewport.width)}px`;
    canvas.style.height = `${Math.floor(viewport.height)}px`;
    const layer = document.createElement('div');
    layer.className = 'textLayer';
    container.append(canvas, layer);

    renderTask = page.render({
      canvas,
      viewport,
      transform: ratio === 1 ? undefined : [ratio, 0, 0, ratio, 0, 0],
    });
    textLayer = new TextLayer({ textContentSource: page.streamTextContent(), container: layer, viewport });
    await Promise.all([renderTask.promise, textLayer.render()]);
    return { spans: textLayer.textDivs, items: textLayer.textContentItemsStr };
  })();

  return {
    done,
    cancel: () => {
      cancelled = true;
      renderTask?.cancel();
      textLayer?.cancel();
    },
  };
}

/** Frees the document and its worker-side state (pdf.js 6 closes documents via their loading task). */
export function closePdf(doc: PDFDocumentProxy): void {
  doc.loadingTask.destroy().catch(() => undefined);
}
