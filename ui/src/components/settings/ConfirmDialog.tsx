// A small modal asking yes or no, in the page (native confirm() blocks the window and cannot be
// styled or translated).

import type { ComponentChildren } from 'preact';
import { useServices } from '../../state/context';
import { Modal } from '../Modal';

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
    <Modal kind="confirm" label={title} testid="confirm-dialog" onClose={onCancel} alert>
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
    </Modal>
  );
}
