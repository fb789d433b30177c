// Reads an answer aloud in the voice chosen in settings: the engine synthesises a WAV file and the
// page plays it (an <audio> element on a blob URL; the CSP allows blob: media). Click again to stop.
// With `autoPlay` (Settings → Voice → speak answers) it starts by itself once the answer is done.
// Speaking into the microphone stops it.

import { useEffect, useRef, useState } from 'preact/hooks';
import { onBargeIn } from '../../lib/bargeIn';
import { useServices } from '../../state/context';

export function ReadAloudButton({ text, autoPlay = false }: { text: string; autoPlay?: boolean }) {
  const { api, t, toasts } = useServices();
  const [state, setState] = useState<'idle' | 'loading' | 'playing'>('idle');
  const audio = useRef<HTMLAudioElement | null>(null);
  const url = useRef<string | null>(null);

  const stop = () => {
    audio.current?.pause();
    audio.current = null;
    if (url.current) URL.revokeObjectURL(url.current);
    url.current = null;
    setState('idle');
  };
  useEffect(() => stop, []);
  // A question being spoken silences the answer being read (barge-in).
  useEffect(() => onBargeIn(() => audio.current && stop()), []);

  const start = () => {
    setState('loading');
    api.settings.speak(text).then(
      (wav) => {
        url.current = URL.createObjectURL(new Blob([wav], { type: 'audio/wav' }));
        const player = new Audio(url.current);
        player.onended = stop;
        audio.current = player;
        setState('playing');
        player.play().catch(() => stop());
      },
      (e: unknown) => {
        setState('idle');
        toasts.info(t('readAloudFailed', { reason: e instanceof Error ? e.message : String(e) }));
      },
    );
  };

  useEffect(() => {
    if (autoPlay) start();
    // Once, when the finished answer first shows.
  }, []);

  return (
    <button
      type="button"
      class="small-button"
      data-testid="read-aloud-button"
      data-state={state}
      disabled={state === 'loading'}
      onClick={() => (state === 'playing' ? stop() : start())}
    >
      {state === 'playing' ? t('stopReading') : t('readAloud')}
    </button>
  );
}
