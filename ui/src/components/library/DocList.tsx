// The indexed documents, with delete (confirmed in place) and re-index (for a PDF, also with OCR
// forced or forbidden: a scan whose text layer reads as words but is not the page's text).

import { useState } from 'preact/hooks';
import type { DocumentInfo, OcrChoice } from '../../api/types';
import { formatBytes } from '../../lib/format';
import { memo } from '../../lib/memo';
import { useServices } from '../../state/context';

interface Props {
  docs: readonly DocumentInfo[];
  /** The documents questions are kept to (empty: all). */
  scopeIds: ReadonlySet<string>;
  onOpen: (doc: DocumentInfo) => void;
  onRemove: (doc: DocumentInfo) => void;
  onReindex: (doc: DocumentInfo, ocr?: OcrChoice) => void;
  onToggleScope: (doc: DocumentInfo) => void;
  onSummarize: (doc: DocumentInfo) => void;
}

export function DocList({ docs, scopeIds, onOpen, onRemove, onReindex, onToggleScope, onSummarize }: Props) {
  const { t } = useServices();
  return (
    <ul class="doc-list" data-testid="doc-list" aria-label={t('documents')}>
      {docs.map((doc) => (
        <DocRow
          key={doc.id}
          doc={doc}
          scoped={scopeIds.has(doc.id)}
          onOpen={onOpen}
          onRemove={onRemove}
          onReindex={onReindex}
          onToggleScope={onToggleScope}
          onSummarize={onSummarize}
        />
      ))}
    </ul>
  );
}

interface RowProps {
  doc: DocumentInfo;
  scoped: boolean;
  onOpen: (doc: DocumentInfo) => void;
  onRemove: (doc: DocumentInfo) => void;
  onReindex: (doc: DocumentInfo, ocr?: OcrChoice) => void;
  onToggleScope: (doc: DocumentInfo) => void;
  onSummarize: (doc: DocumentInfo) => void;
}

const DocRow = memo(function DocRow({ doc, scoped, onOpen, onRemove, onReindex, onToggleScope, onSummarize }: RowProps) {
  const { t } = useServices();
  // A native confirm() would block the window (and is dismissed silently by test browsers);
  // a second click on an in-place button is as safe and stays in the page.
  const [confirming, setConfirming] = useState(false);
  // How the next re-index reads a PDF's pages; choosing starts nothing (arrow keys on a closed
  // select change it in some webviews), the Re-index button does.
  const [ocr, setOcr] = useState<OcrChoice>('auto');
  const isPdf = doc.format.toLowerCase() === 'pdf';
  return (
    <li class="doc-row" data-testid="doc-row" data-doc-id={doc.id} title={doc.path}>
      {/* Only PDFs have a whole-document view; other formats are shown passage by passage. */}
      {isPdf ? (
        <button type="button" class="doc-title link-button" onClick={() => onOpen(doc)}>
          {doc.title || doc.path}
        </button>
      ) : (
        <span class="doc-title">{doc.title || doc.path}</span>
      )}
      <div class="doc-meta muted small">
        <span class="badge">{doc.format}</span>
        {doc.pages !== null && <span>{t('pagesN', { n: doc.pages })}</span>}
        <span>{t('chunksN', { n: doc.chunks })}</span>
        <span>{formatBytes(doc.size_bytes)}</span>
      </div>
      <div class="doc-actions">
        {confirming ? (
          <>
            <span class="small">{t('confirmRemove', { title: doc.title })}</span>
            <button
              type="button"
              class="danger"
              data-testid="doc-remove-confirm"
              onClick={() => {
                setConfirming(false);
                onRemove(doc);
              }}
            >
              {t('confirmYes')}
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              {t('cancel')}
            </button>
          </>
        ) : (
          <>
            <button
              type="button"
              data-testid="doc-scope"
              aria-pressed={scoped}
              title={t('askOnlyTitle')}
              onClick={() => onToggleScope(doc)}
            >
              {scoped ? t('askingThis') : t('askOnly')}
            </button>
            <button type="button" data-testid="doc-summarize" onClick={() => onSummarize(doc)}>
              {t('summarize')}
            </button>
            {isPdf && (
              <select
                data-testid="doc-reindex-ocr"
                aria-label={t('reindexOcrTitle')}
                title={t('reindexOcrTitle')}
                value={ocr}
                onChange={(e) => {
                  const choice = (e.currentTarget as HTMLSelectElement).value;
                  if (choice === 'auto' || choice === 'always' || choice === 'never') setOcr(choice);
                }}
              >
                <option value="auto">{t('reindexOcrAuto')}</option>
                <option value="always">{t('reindexOcrAlways')}</option>
                <option value="never">{t('reindexOcrNever')}</option>
              </select>
            )}
            <button type="button" data-testid="doc-reindex" onClick={() => onReindex(doc, isPdf ? ocr : 'auto')}>
              {t('reindex')}
            </button>
            <button type="button" data-testid="doc-remove" onClick={() => setConfirming(true)}>
              {t('remove')}
            </button>
          </>
        )}
      </div>
    </li>
  );
});
