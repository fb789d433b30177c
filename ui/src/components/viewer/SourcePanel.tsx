// The right-hand panel showing the source a citation points to, in the viewer that fits it.

import type { DocumentInfo } from '../../api/types';
import { useServices } from '../../state/context';
import { viewerKind, type ViewerTarget } from '../../state/viewer';
import { PassageViewer } from './PassageViewer';
import { PdfViewer } from './PdfViewer';
import { QaViewer } from './QaViewer';

interface Props {
  target: ViewerTarget;
  docs: readonly DocumentInfo[];
  onClose: () => void;
}

export function SourcePanel({ target, docs, onClose }: Props) {
  const { t } = useServices();
  const kind = viewerKind(target, docs);
  return (
    <aside
      class="source-panel"
      aria-label={t('viewer')}
      onKeyDown={(e) => {
        if (e.key === 'Escape') onClose();
      }}
    >
      <div class="pane-header">
        <h2 title={target.path}>
          {target.n !== undefined && <span class="source-n">[{target.n}] </span>}
          {target.title || target.path}
        </h2>
        <button type="button" class="icon-button" data-testid="viewer-close" aria-label={t('close')} title={t('close')} onClick={onClose}>
          ×
        </button>
      </div>
      {/* Keyed by document: another document gets a fresh viewer instead of racing the old one's teardown. */}
      {kind === 'pdf' && <PdfViewer key={target.docId} target={target} />}
      {kind === 'qa' && <QaViewer target={target} />}
      {kind === 'text' && <PassageViewer target={target} />}
    </aside>
  );
}
