// Cloned voices: make one from a 10–30 s recording of one person (a WAV file, or any format the
// window can decode) with a note of whose voice it is and their consent; remove one with its
// recording. Adding takes seconds where the neural converter is installed (the base voice reads a
// calibration text), so the stage is shown.

import { useState } from 'preact/hooks';
import type { VoiceInfo } from '../../api/types';
import { toWav } from '../../lib/wav';
import { useServices } from '../../state/context';
import { ConfirmDialog } from './ConfirmDialog';

interface Props {
  voices: VoiceInfo[];
  /** A voice was added or removed: the caller reloads the list (and picks or drops the voice). */
  onChanged: (change: { added?: string; removed?: string }) => void;
}

const NAME = /^[\p{L}\p{N}_-]{1,40}$/u;

const STAGES: Record<string, 'voiceStage_converting' | 'voiceStage_reading' | 'voiceStage_measuring'> = {
  converting: 'voiceStage_converting',
  reading: 'voiceStage_reading',
  measuring: 'voiceStage_measuring',
};

export function VoiceCloner({ voices, onChanged }: Props) {
  const { api, t, toasts } = useServices();
  const [name, setName] = useState('');
  const [consent, setConsent] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [stage, setStage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [removing, setRemoving] = useState<string | null>(null);
  // Remounts the file input after a voice is made (a file input cannot be cleared by state).
  const [pickerKey, setPickerKey] = useState(0);
  const cloned = voices.filter((v) => v.kind === 'cloned');

  const problem = !NAME.test(name)
    ? t('voiceNameRule')
    : !file
      ? t('voiceSampleNeeded')
      : consent.trim() === ''
        ? t('voiceConsentNeeded')
        : null;

  const create = async () => {
    if (problem || !file) return;
    setError(null);
    setStage('converting');
    try {
      const wav = await toWav(file);
      setStage('reading');
      const done = await api.settings.addVoice(wav, name, consent.trim(), (e) => setStage(e.stage)).done;
      toasts.info(
        t(done.voice.engine === 'neural' ? 'voiceAddedNeural' : 'voiceAddedTone', { name: done.voice.id }),
      );
      for (const warning of done.voice.warnings) toasts.info(warning);
      setName('');
      setConsent('');
      setFile(null);
      setPickerKey((k) => k + 1);
      onChanged({ added: done.voice.id });
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setStage(null);
    }
  };

  const remove = async (id: string) => {
    setRemoving(null);
    try {
      await api.settings.removeVoice(id);
      toasts.info(t('voiceRemoved', { name: id }));
      onChanged({ removed: id });
    } catch (e) {
      toasts.error(e);
    }
  };

  return (
    <div class="voice-cloner" data-testid="voice-cloner">
      {cloned.length > 0 && (
        <ul class="cloned-voices">
          {cloned.map((v) => (
            <li key={v.id} data-testid="cloned-voice">
              <strong>{v.id}</strong> <span class="muted">{v.engine}</span>{' '}
              <button type="button" onClick={() => setRemoving(v.id)} aria-label={t('voiceRemove', { name: v.id })}>
                {t('remove')}
              </button>
            </li>
          ))}
        </ul>
      )}
      <details>
        <summary>{t('voiceClone')}</summary>
        <p class="muted">{t('voiceCloneHint')}</p>
        <label>
          {t('voiceName')}
          <input
            data-testid="voice-name"
            value={name}
            maxLength={40}
            onInput={(e) => setName(e.currentTarget.value.trim())}
          />
        </label>
        <label>
          {t('voiceSample')}
          <input
            key={pickerKey}
            data-testid="voice-sample"
            type="file"
            accept="audio/*,.wav"
            onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)}
          />
        </label>
        <label>
          {t('voiceConsent')}
          <textarea
            data-testid="voice-consent"
            rows={2}
            value={consent}
            placeholder={t('voiceConsentPlaceholder')}
            onInput={(e) => setConsent(e.currentTarget.value)}
          />
        </label>
        <button
          type="button"
          data-testid="voice-create"
          disabled={stage !== null || problem !== null}
          title={problem ?? undefined}
          onClick={() => void create()}
        >
          {stage === null ? t('voiceCreate') : t(STAGES[stage] ?? 'voiceStage_reading')}
        </button>
        {error && (
          <p class="error" role="alert" data-testid="voice-error">
            {error}
          </p>
        )}
      </details>
      {removing && (
        <ConfirmDialog
          title={t('voiceRemove', { name: removing })}
          confirmLabel={t('remove')}
          onConfirm={() => void remove(removing)}
          onCancel={() => setRemoving(null)}
        >
          {t('voiceRemoveBody', { name: removing })}
        </ConfirmDialog>
      )}
    </div>
  );
}
