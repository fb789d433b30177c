// First run: nothing indexed yet. Say where documents go, and offer the sample in one click.

import { useServices } from '../../state/context';

interface Props {
  onSample: () => void;
  busy: boolean;
}

export function EmptyState({ onSample, busy }: Props) {
  const { t } = useServices();
  return (
    <div class="empty-state">
      <div class="empty-icon" aria-hidden="true">
        ⇣
      </div>
      <h2>{t('dropHere')}</h2>
      <p class="muted">{t('dropHint')}</p>
      <button type="button" class="primary" data-testid="sample-button" disabled={busy} onClick={onSample}>
        {t('trySample')}
      </button>
      <p class="muted small">{t('sampleHint')}</p>
    </div>
  );
}
