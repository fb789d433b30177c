// The files being added: a summary that stays small however many there are, and the rows below it
// (collapsible). The list re-renders only when rows are added or cleared; the summary at most a few
// times a second.

import { useCallback, useState } from 'preact/hooks';
import type { UploadQueue } from '../../lib/uploadQueue';
import { useSubscription } from '../../lib/useSubscription';
import { useServices } from '../../state/context';
import { UploadRowView } from './UploadRowView';

interface Props {
  queue: UploadQueue;
}

export function UploadPanel({ queue }: Props) {
  const { t } = useServices();
  const [open, setOpen] = useState(true);
  const subscribeList = useCallback((fn: () => void) => queue.subscribeList(fn), [queue]);
  const subscribeChange = useCallback((fn: () => void) => queue.subscribeChange(fn), [queue]);
  const ids = useSubscription(subscribeList, () => queue.ids(), 50);
  const counts = useSubscription(subscribeChange, () => queue.counts(), 150);
  const skipped = queue.skipped;
  if (ids.length === 0 && skipped === 0) return null;

  const finished = counts.indexed + counts.unchanged + counts.moved + counts.duplicate + counts.failed;
  const total = ids.length;
  const percent = total > 0 ? Math.round((100 * finished) / total) : 100;
  return (
    <section class="upload-panel" aria-label={t('uploads')}>
      <div class="upload-summary">
        <strong>{t('uploadSummary', { done: finished, total })}</strong>
        {counts.failed > 0 && <span class="bad"> · {t('uploadFailedN', { n: counts.failed })}</span>}
        <div class="upload-summary-actions">
          {queue.busy && (
            <button type="button" onClick={() => queue.stopAll()}>
              {t('stopUploads')}
            </button>
          )}
          {finished > 0 && (
            <button type="button" onClick={() => queue.clearFinished()}>
              {t('clearFinished')}
            </button>
          )}
          {total > 0 && (
            <button type="button" aria-expanded={open} onClick={() => setOpen(!open)}>
              {open ? t('hideList') : t('showList')}
            </button>
          )}
        </div>
      </div>
      <div class="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent}>
        <div class="progress-bar" style={{ width: `${percent}%` }} />
      </div>
      {skipped > 0 && <p class="muted small">{t('skippedN', { n: skipped })}</p>}
      {open && (
        <ul class="upload-list">
          {ids.map((id) => (
            <UploadRowView key={id} queue={queue} id={id} />
          ))}
        </ul>
      )}
    </section>
  );
}
