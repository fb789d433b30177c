// The frame every dialog shares: a backdrop that closes it when clicked, Escape that closes it, and
// the dialog role with its accessible name.

import type { ComponentChildren } from 'preact';

interface Props {
  /** Extra class of the dialog box ("settings", "summary-dialog", …). */
  kind: string;
  label: string;
  testid: string;
  onClose: () => void;
  /** A confirmation over another dialog: role alertdialog, and Escape closes only this one. */
  alert?: boolean;
  children: ComponentChildren;
}

export function Modal({ kind, label, testid, onClose, alert = false, children }: Props) {
  return (
    <div
      class={alert ? 'modal-backdrop nested' : 'modal-backdrop'}
      onClick={(e) => e.target === e.currentTarget && onClose()}
    >
      <div
        class={`modal ${kind}`}
        role={alert ? 'alertdialog' : 'dialog'}
        aria-modal="true"
        aria-label={label}
        data-testid={testid}
        onKeyDown={(e) => {
          if (e.key !== 'Escape') return;
          if (alert) e.stopPropagation();
          onClose();
        }}
      >
        {children}
      </div>
    </div>
  );
}
