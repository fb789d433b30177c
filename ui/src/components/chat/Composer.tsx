// Where questions are typed. Enter sends, Shift+Enter starts a new line, Esc stops the answer being
// written. Enter while an input method is composing (Chinese pinyin, Japanese) confirms the
// composition instead of sending.

import type { RefObject } from 'preact';
import { useState } from 'preact/hooks';
import { useServices } from '../../state/context';

interface Props {
  streaming: boolean;
  onSend: (question: string) => void;
  onStop: () => void;
  inputRef?: RefObject<HTMLTextAreaElement | null>;
}

export function Composer({ streaming, onSend, onStop, inputRef }: Props) {
  const { t } = useServices();
  const [text, setText] = useState('');
  const canSend = text.trim() !== '' && !streaming;

  const send = () => {
    if (!canSend) return;
    onSend(text.trim());
    setText('');
  };

  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      <textarea
        ref={inputRef}
        data-testid="composer"
        rows={2}
        value={text}
        placeholder={t('composerPlaceholder')}
        aria-label={t('composerPlaceholder')}
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            if (streaming) {
              e.preventDefault();
              onStop();
            }
            return;
          }
          // keyCode 229 is what some browsers report for keys consumed by an input method.
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
            e.preventDefault();
            send();
          }
        }}
      />
      <div class="composer-actions">
        <span class="muted small composer-hint">{t('composerHint')}</span>
        {streaming ? (
          <button type="button" class="danger" data-testid="stop-button" onClick={onStop}>
            {t('stop')}
          </button>
        ) : (
          <button type="submit" class="primary" data-testid="send-button" disabled={!canSend}>
            {t('send')}
          </button>
        )}
      </div>
    </form>
  );
}
