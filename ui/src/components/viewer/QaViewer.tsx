// Shows an FAQ source: the question in bold, the answer, and the row it came from.

import { sourceLocation } from '../../lib/format';
import { useServices } from '../../state/context';
import { splitQa, type ViewerTarget } from '../../state/viewer';

export function QaViewer({ target }: { target: ViewerTarget }) {
  const { t } = useServices();
  const { question, answer } = splitQa(target);
  const where = sourceLocation(target, t);
  return (
    <div class="qa-viewer" data-testid="qa-viewer">
      {where && <div class="muted small">{where}</div>}
      <div class="qa-label muted small">{t('question')}</div>
      <p class="qa-question">
        <strong>{question}</strong>
      </p>
      <div class="qa-label muted small">{t('answer')}</div>
      <p class="qa-answer">{answer}</p>
    </div>
  );
}
