// Where questions are typed, or spoken. Enter sends, Shift+Enter starts a new line, Esc stops the
// answer being written. Enter while an input method is composing (Chinese pinyin, Japanese)
// confirms the composition instead of sending. The microphone button records a spoken question
// (click again to finish, or it finishes by itself when the speaker pauses), has Whisper write it
// down and sends it: with "Read answers aloud" on, a hands-free assistant. Speaking stops any
// answer being read aloud (barge-in).

import type { RefObject } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { bargeIn } from '../../lib/bargeIn';
import { canRecord, startRecording, type Recording } from '../../lib/microphone';
import type { Transcript } from '../../api/types';
import { useServices } from '../../state/context';

interface Props {
  streaming: boolean;
  onSend: (question: string) => void;
  onStop: () => void;
  inputRef?: RefObject<HTMLTextAreaElement | null>;
}

export function Composer({ streaming, onSend, onStop, inputRef }: Props) {
  const { api, t, toasts } = useServices();
  const [text, setText] = useState('');
  const canSend = text.trim() !== '' && !streaming;
  const [mic, setMic] = useState<'idle' | 'starting' | 'listening' | 'transcribing'>('idle');
  const recording = useRef<Recording | null>(null);
  const native = api.transport.kind === 'tauri';
  useEffect(() => () => recording.current?.cancel(), []);

  /** One spoken question as text: recorded by the page, or heard by the desktop engine. */
  const hear = async (): Promise<Transcript> => {
    if (native) {
      setMic('starting');
      const handle = api.chat.listen((e) => {
        if (e.event === 'listening') setMic('listening');
        if (e.event === 'speech') bargeIn();
        if (e.event === 'transcribing') setMic('transcribing');
      });
      return handle.done;
    }
    const started = await startRecording(bargeIn);
    recording.current = started;
    setMic('listening');
    const wav = await started.done;
    setMic('transcribing');
    return api.chat.transcribe(wav);
  };

  const listen = async () => {
    if (mic === 'listening' || mic === 'starting') {
      if (native) void api.chat.finishListening();
      else recording.current?.stop();
      return;
    }
    if (mic !== 'idle') return;
    bargeIn();
    try {
      const heard = await hear();
      const question = heard.text.trim();
      if (question === '') {
        toasts.info(t('micNothingHeard'));
      } else {
        if (streaming) onStop();
        onSend(question);
      }
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      if (reason !== 'cancelled') toasts.info(t('micFailed', { reason }));
    } finally {
      recording.current = null;
      setMic('idle');
    }
  };

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
        {(native || canRecord()) && (
          <button
            type="button"
            class={mic === 'listening' ? 'mic-button listening' : 'mic-button'}
            data-testid="mic-button"
            data-state={mic}
            disabled={mic === 'transcribing'}
            aria-pressed={mic === 'listening'}
            title={mic === 'listening' ? t('micStop') : t('micStart')}
            onClick={() => void listen()}
          >
            <MicIcon />
            {mic === 'listening'
              ? t('micListening')
              : mic === 'starting'
                ? t('micStarting')
                : mic === 'transcribing'
                  ? t('micTranscribing')
                  : t('micSpeak')}
          </button>
        )}
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

/** A microphone drawn inline (no icon font or emoji font needed). */
function MicIcon() {
  return (
    <svg class="mic-icon" width="14" height="14" viewBox="0 0 24 24" aria-hidden="true">
      <rect x="9" y="2" width="6" height="12" rx="3" fill="currentColor" />
      <path d="M5 11a7 7 0 0 0 14 0M12 18v4M8 22h8" stroke="currentColor" stroke-width="2" fill="none" />
    </svg>
  );
}
