// Settings: language model (local, remote endpoint or none), device, the model catalogue, voice
// (and cloned voices), the data directory (shown, not editable here), the interface language, and
// on a team server, for its admins, the users.
// Only what changed is sent, so an untouched model setting never reloads the model. A new model or
// device applies at once: it loads in the background (the old model answers meanwhile) and the
// dialog follows it.

import { useEffect, useState } from 'preact/hooks';
import type { Device, LanguagePref, Me, ModelKind, ModelStatus, ScriptPref, Settings, SettingsPatch } from '../../api/types';
import type { T } from '../../i18n';
import { useServices } from '../../state/context';
import { ModelCatalogue } from './ModelCatalogue';
import { UsersPanel } from './UsersPanel';
import { VoiceCloner } from './VoiceCloner';
import { Modal } from '../Modal';

interface Props {
  onClose: () => void;
}

interface Draft {
  modelKind: ModelKind;
  modelId: string;
  modelUrl: string;
  /** A LoRA adapter's name ('' for none). */
  modelAdapter: string;
  device: Device;
  voiceEnabled: boolean;
  voice: string;
  language: LanguagePref;
  script: ScriptPref;
}

function draftFrom(s: Settings, language: LanguagePref): Draft {
  return {
    modelKind: s.model?.kind ?? 'none',
    modelId: s.model?.id ?? '',
    modelUrl: s.model?.url ?? '',
    modelAdapter: s.model?.adapter ?? '',
    device: s.device?.current ?? 'cpu',
    voiceEnabled: Boolean(s.voice?.enabled),
    voice: s.voice?.voice ?? '',
    language,
    script: s.script ?? 'auto',
  };
}

/** The settings that differ between `before` and `after`, in the server's nested shape. */
export function settingsPatch(before: Draft, after: Draft): SettingsPatch {
  const patch: SettingsPatch = {};
  if (
    before.modelKind !== after.modelKind ||
    before.modelId !== after.modelId ||
    before.modelUrl !== after.modelUrl ||
    before.modelAdapter !== after.modelAdapter
  ) {
    patch.model = {
      kind: after.modelKind,
      id: after.modelKind === 'local' ? after.modelId || null : null,
      url: after.modelKind === 'remote' ? after.modelUrl || null : null,
      adapter: after.modelKind === 'local' ? after.modelAdapter || null : null,
    };
  }
  if (before.device !== after.device) patch.device = { current: after.device };
  if (before.voiceEnabled !== after.voiceEnabled || before.voice !== after.voice) {
    patch.voice = { enabled: after.voiceEnabled, voice: after.voice || null };
  }
  if (before.language !== after.language) patch.language = after.language;
  if (before.script !== after.script) patch.script = after.script;
  return patch;
}

/** How often the dialog asks after a model that is loading. */
export const MODEL_POLL_MS = 1000;

/** One line on the language model's state, in the interface language. */
export function modelStatusText(status: ModelStatus, t: T): string {
  switch (status.state) {
    case 'ready':
      return t('modelStatusReady', { model: status.model ?? '' });
    case 'loading':
      return status.model
        ? t('modelStatusLoading', { choice: status.choice ?? '', current: status.model })
        : t('modelStatusLoadingNone', { choice: status.choice ?? '' });
    case 'failed':
      return t('modelStatusFailed', { message: status.message ?? '' });
    default:
      return t('modelStatusOff');
  }
}

export function SettingsDialog({ onClose }: Props) {
  const { api, t, toasts, langPref, setLangPref } = useServices();
  const [settings, setSettings] = useState<Settings | null>(null);
  const [initial, setInitial] = useState<Draft | null>(null);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [saving, setSaving] = useState(false);
  const [me, setMe] = useState<Me | null>(null);
  const loading = settings?.model_status?.state === 'loading';

  const load = (resetDraft: boolean) =>
    api.settings.get().then(
      (s) => {
        setSettings(s);
        // The interface language is this browser's choice; the server's value is its default.
        const fresh = draftFrom(s, langPref);
        setInitial(fresh);
        if (resetDraft) setDraft(fresh);
      },
      (e: unknown) => toasts.error(e),
    );

  useEffect(() => {
    void load(true);
    // Loaded once per opening; later reloads (after a download) keep the user's unsaved edits.
    // Who is asking decides whether the team's users are shown (an older server has no /api/me).
    api.users.me().then(
      (m) => setMe(m ?? null),
      () => setMe(null),
    );
  }, []);

  // While a model loads, follow it until it is ready or has failed.
  useEffect(() => {
    if (!loading) return undefined;
    const timer = setInterval(() => {
      api.settings.get().then(
        (s) => {
          setSettings((prev) => (prev ? { ...prev, model_loaded: s.model_loaded, model_status: s.model_status } : s));
          if (s.model_status?.state === 'ready') toasts.info(t('modelReady', { model: s.model_status.model ?? '' }));
        },
        () => undefined, // a missed poll is retried on the next tick
      );
    }, MODEL_POLL_MS);
    return () => clearInterval(timer);
  }, [loading]);

  const update = (change: Partial<Draft>) => setDraft((d) => (d ? { ...d, ...change } : d));

  const save = async () => {
    if (!draft || !initial) return;
    const patch = settingsPatch(initial, draft);
    if (draft.language !== langPref) setLangPref(draft.language);
    if (Object.keys(patch).length === 0) {
      onClose();
      return;
    }
    setSaving(true);
    try {
      const saved = await api.settings.set(patch);
      setSettings(saved);
      setInitial(draftFrom(saved, draft.language));
      toasts.info(t('saved'));
      // A model that is loading keeps the dialog open so its progress (or failure) is seen.
      if (saved.model_status?.state !== 'loading') onClose();
    } catch (e) {
      toasts.error(e);
    } finally {
      setSaving(false);
    }
  };

  const catalogue = settings?.catalogue ?? [];
  const voices = settings?.voices ?? [];
  const devices = settings?.device?.available ?? [];
  const llms = catalogue.filter((c) => c.kind === 'llm' && c.installed);
  const adapters = settings?.adapters ?? [];
  return (
    <Modal kind="settings" label={t('settingsTitle')} testid="settings-dialog" onClose={onClose}>
      <div class="pane-header">
        <h2>{t('settingsTitle')}</h2>
        <button type="button" class="icon-button" aria-label={t('close')} onClick={onClose}>
          ×
        </button>
      </div>
      {settings?.model_status && (
        <div
          class={`banner${settings.model_status.state === 'failed' ? ' error' : ''}`}
          role="status"
          data-testid="model-status"
          data-state={settings.model_status.state}
        >
          {modelStatusText(settings.model_status, t)}
        </div>
      )}
      {!settings || !draft ? (
        <p class="muted">{t('loading')}</p>
      ) : (
        <form
          class="settings-form"
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
        >
          <fieldset>
            <legend>{t('model')}</legend>
            {(['local', 'remote', 'none'] as const).map((kind) => (
              <label key={kind} class="radio">
                <input
                  type="radio"
                  name="model-kind"
                  value={kind}
                  checked={draft.modelKind === kind}
                  onChange={() => update({ modelKind: kind })}
                />
                {kind === 'local' ? t('modelLocal') : kind === 'remote' ? t('modelRemote') : t('modelNone')}
              </label>
            ))}
            {draft.modelKind === 'local' && (
              <label>
                {t('modelChoose')}
                <select value={draft.modelId} onChange={(e) => update({ modelId: e.currentTarget.value })}>
                  {draft.modelId && !llms.some((m) => m.id === draft.modelId) && (
                    <option value={draft.modelId}>{draft.modelId}</option>
                  )}
                  {llms.map((m) => (
                    <option key={m.id} value={m.id}>
                      {m.id}
                    </option>
                  ))}
                </select>
              </label>
            )}
            {draft.modelKind === 'local' && (
              <label>
                {t('modelAdapter')}
                <select
                  data-testid="model-adapter"
                  value={draft.modelAdapter}
                  onChange={(e) => update({ modelAdapter: e.currentTarget.value })}
                >
                  <option value="">{t('modelAdapterNone')}</option>
                  {draft.modelAdapter && !adapters.some((a) => a.name === draft.modelAdapter) && (
                    <option value={draft.modelAdapter}>{draft.modelAdapter}</option>
                  )}
                  {adapters.map((a) => (
                    <option key={a.name} value={a.name} disabled={Boolean(a.error)} title={a.error ?? a.path}>
                      {a.base_model ? `${a.name} (${a.base_model})` : a.name}
                    </option>
                  ))}
                </select>
                {settings.adapters_dir && (
                  <span class="small muted" data-testid="adapters-hint">
                    {t('modelAdapterHint', { dir: settings.adapters_dir })}
                  </span>
                )}
              </label>
            )}
            {draft.modelKind === 'remote' && (
              <label>
                {t('modelUrl')}
                <input
                  type="url"
                  value={draft.modelUrl}
                  placeholder="http://127.0.0.1:8080/v1"
                  onInput={(e) => update({ modelUrl: e.currentTarget.value })}
                />
              </label>
            )}
          </fieldset>

          <label>
            {t('device')}
            <select value={draft.device} onChange={(e) => update({ device: e.currentTarget.value as Device })}>
              {(devices.length > 0 ? devices : [draft.device]).map((d) => (
                <option key={d} value={d}>
                  {d}
                </option>
              ))}
            </select>
          </label>

          {me?.auth === 'users' && me.role === 'admin' && (
            <fieldset>
              <legend>{t('users')}</legend>
              <UsersPanel />
            </fieldset>
          )}

          <fieldset>
            <legend>{t('catalogue')}</legend>
            <ModelCatalogue entries={catalogue} onInstalled={() => void load(false)} />
          </fieldset>

          <fieldset>
            <legend>{t('voice')}</legend>
            <label class="checkbox">
              <input
                type="checkbox"
                checked={draft.voiceEnabled}
                onChange={(e) => update({ voiceEnabled: e.currentTarget.checked })}
              />
              {t('voiceEnabled')}
            </label>
            <label>
              {t('voiceChoose')}
              <select
                value={draft.voice}
                disabled={!draft.voiceEnabled}
                onChange={(e) => update({ voice: e.currentTarget.value })}
              >
                <option value="">—</option>
                {voices.map((v) => (
                  <option key={v.id} value={v.id} disabled={!v.available}>
                    {v.id} ({(v.languages ?? []).join(', ')}) · {v.license}
                    {v.available ? '' : ` ${t('voiceUnavailable')}`}
                  </option>
                ))}
              </select>
            </label>
            <VoiceCloner
              voices={voices}
              onChanged={({ added, removed }) => {
                void load(false);
                if (added) update({ voiceEnabled: true, voice: added });
                // The engine already dropped a deleted voice from the settings; so does the form.
                if (removed && draft.voice === removed) {
                  update({ voice: '' });
                  setInitial((i) => (i ? { ...i, voice: '' } : i));
                }
              }}
            />
          </fieldset>

          <label>
            {t('language')}
            <select
              data-testid="settings-language"
              value={draft.language}
              onChange={(e) => update({ language: e.currentTarget.value as LanguagePref })}
            >
              <option value="auto">{t('langAuto')}</option>
              <option value="zh">{t('langZh')}</option>
              <option value="en">{t('langEn')}</option>
            </select>
          </label>

          <label>
            {t('script')}
            <select
              data-testid="settings-script"
              value={draft.script}
              onChange={(e) => update({ script: e.currentTarget.value as ScriptPref })}
            >
              <option value="auto">{t('scriptAuto')}</option>
              <option value="simplified">简体中文</option>
              <option value="traditional">繁體中文</option>
            </select>
          </label>

          <div class="readonly-field">
            <span>{t('dataDir')}</span>
            <code data-testid="data-dir">{settings.data_dir}</code>
          </div>

          <div class="modal-actions">
            <button type="button" onClick={onClose}>
              {t('cancel')}
            </button>
            <button type="submit" class="primary" disabled={saving}>
              {t('save')}
            </button>
          </div>
        </form>
      )}
    </Modal>
  );
}
