// The indexed documents, with delete (confirmed in place) and re-index.

import { useState } from 'preact/hooks';
import type { DocumentInfo } from '../../api/types';
import { formatBytes } from '../../lib/format';
import { memo } from '../../lib/memo';
import { useServices } from '../../state/context';

interface Props {
  docs: readonly DocumentInfo[];
  onOpen: (doc: DocumentInfo) => void;
  onRemove: (doc: DocumentInfo) => void;
  onReindex: (doc: DocumentInfo) => void;
}

export function DocList({ docs, onOpen, onRemove, onReindex }: Props) {
  const { t } = useServices();
  return (
    <ul class="doc-list" data-testid="doc-list" aria-label={t('documents')}>
      {docs.map((doc) => (
        <DocRow key={doc.id} doc={doc} onOpen={onOpen} onRemove={onRemove} onReindex={onReindex} />
      ))}
    </ul>
  );
}

interface RowProps {
  doc: DocumentInfo;
  onOpen: (doc: DocumentInfo) => void;
  onRemove: (doc: DocumentInfo) => void;
  onReindex: (doc: DocumentInfo) => void;
}

const DocRow = memo(function DocRow({ doc, onOpen, onRemove, onReindex }: RowProps) {
  const { t } = useServices();
  // A native confirm() would block the window (and is dismissed silently by test browsers);
  // a second click on an in-place button is as safe and stays in the page.
  const [confirming, setConfirming] = useState(false);
  return (
    <li class="doc-row" data-testid="doc-row" data-doc-id={doc.id} title={doc.path}>
      {/* Only PDFs have a whole-document view; other formats are shown passage by passage. */}
      {doc.format.toLowerCase() === 'pdf' ? (
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
            <button type="button" data-testid="doc-reindex" onClick={() => onReindex(doc)}>
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
