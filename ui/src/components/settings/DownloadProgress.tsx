// A model download under way: percent when the size is known, bytes so far otherwise.

import { formatBytes } from '../../lib/format';
import { useServices } from '../../state/context';

export interface Progress {
  downloaded: number;
  total: number | null;
}

export function DownloadProgress({ progress }: { progress: Progress }) {
  const { t } = useServices();
  const { downloaded, total } = progress;
  const percent = total ? Math.min(100, Math.round((100 * downloaded) / total)) : null;
  return (
    <div class="download-progress" data-testid="download-progress">
      <span class="small">{t('downloading', { percent: percent === null ? formatBytes(downloaded) : `${percent}%` })}</span>
      <div class="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent ?? 0}>
        <div class="progress-bar" style={{ width: `${percent ?? 0}%` }} />
      </div>
    </div>
  );
}
