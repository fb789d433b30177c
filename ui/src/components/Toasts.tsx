// The corner where errors and confirmations appear.

import { useCallback } from 'preact/hooks';
import { useServices } from '../state/context';
import { useSubscription } from '../lib/useSubscription';

export function Toasts() {
  const { toasts, t } = useServices();
  const subscribe = useCallback((fn: () => void) => toasts.subscribe(fn), [toasts]);
  const list = useSubscription(subscribe, () => toasts.list());
  return (
    <div class="toasts" aria-live="polite">
      {list.map((toast) => (
        <div
          key={toast.id}
          data-testid="toast"
          class={`toast toast-${toast.kind}`}
          role={toast.kind === 'error' ? 'alert' : 'status'}
          data-code={toast.code}
        >
          <span class="toast-message">{toast.message}</span>
          <button type="button" class="icon-button" aria-label={t('dismiss')} onClick={() => toasts.dismiss(toast.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
