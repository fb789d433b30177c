// Shows a passage from a non-PDF document (Markdown, Word, HTML, text) with its heading path.

import { useServices } from '../../state/context';
import type { ViewerTarget } from '../../state/viewer';

export function PassageViewer({ target }: { target: ViewerTarget }) {
  const { t } = useServices();
  return (
    <div class="passage-viewer" data-testid="passage-viewer">
      {target.headingPath.length > 0 && (
        <nav class="heading-path muted small" aria-label="heading path">
          {target.headingPath.join(' › ')}
        </nav>
      )}
      {target.page !== null && <div class="muted small">{t('page', { n: target.page })}</div>}
      <blockquote class="passage-text">{target.text}</blockquote>
    </div>
  );
}
