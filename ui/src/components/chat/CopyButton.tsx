// Copies an answer, and says so for a moment.

import { useEffect, useState } from 'preact/hooks';
import { copyText } from '../../lib/clipboard';
import { useServices } from '../../state/context';

export function CopyButton({ text }: { text: string }) {
  const { t, toasts } = useServices();
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!copied) return;
    const timer = setTimeout(() => setCopied(false), 1500);
    return () => clearTimeout(timer);
  }, [copied]);
  return (
    <button
      type="button"
      class="small-button"
      data-testid="copy-button"
      onClick={() => {
        copyText(text).then(
          (ok) => (ok ? setCopied(true) : toasts.info(t('copyFailed'))),
          () => toasts.info(t('copyFailed')),
        );
      }}
    >
      {copied ? t('copied') : t('copyAnswer')}
    </button>
  );
}
