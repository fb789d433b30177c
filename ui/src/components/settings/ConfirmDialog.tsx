// A small modal asking yes or no, in the page (native confirm() blocks the window and cannot be
// styled or translated).

import type { ComponentChildren } from 'preact';
import { useServices } from '../../state/context';

interface Props {
  title: string;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
  children: ComponentChildren;
}

export function ConfirmDialog({ title, confirmLabel, onConfirm, onCancel, children }: Props) {
  const { t } = useServices();
  return (
    <div class="modal-backdrop nested" onClick={(e) => e.target === e.currentTarget && onCancel()}>
      <div
        class="modal confirm"
        role="alertdialog"
        aria-modal="true"
        aria-label={title}
        data-testid="confirm-dialog"
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.stopPropagation();
            onCancel();
          }
        }}
      >
        <h3>{title}</h3>
        <div class="confirm-body">{children}</div>
        <div class="modal-actions">
          <button type="button" onClick={onCancel}>
            {t('cancel')}
          </button>
          <button type="button" class="primary" data-testid="confirm-yes" autoFocus onClick={onConfirm}>
            {confirmLabel}
          </button>
        </div>
      </div>
    </div>
  );
}
