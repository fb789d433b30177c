// First run. A packaged DocTalk ships without models: before it can start it needs the sentence
// encoder, and it recommends the default language model. Each is listed with its licence and
// download size before anything is fetched; one button downloads what is missing (required
// first, one at a time, through the model store) and then opens the app.

import { useState } from 'preact/hooks';
import type { SetupModel, SetupStatus } from '../../api/types';
import { formatBytes } from '../../lib/format';
import { useServices } from '../../state/context';
import { DownloadProgress, type Progress } from '../settings/DownloadProgress';
import { CatalogueHead } from '../settings/ModelCatalogue';

interface Props {
  status: SetupStatus;
  /** Asks again what is installed; resolves to the new status (null when asking failed). */
  onRecheck: () => Promise<SetupStatus | null>;
  /** Opens the app (every required model is here). */
  onStart: () => void;
}

function byRole(a: SetupModel, b: SetupModel): number {
  return Number(a.role !== 'required') - Number(b.role !== 'required');
}

export function SetupScreen({ status, onRecheck, onStart }: Props) {
  const { api, t } = useServices();
  const [progress, setProgress] = useState<Record<string, Progress>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);

  const missing = status.models.filter((m) => !m.installed && m.downloadable).sort(byRole);
  const sizes = missing.map((m) => m.size_bytes);
  const totalKnown = sizes.every((s) => typeof s === 'number');
  const total = sizes.reduce<number>((sum, s) => sum + (s ?? 0), 0);

  const setProgressOf = (id: string, p: Progress | null) =>
    setProgress((all) => {
      const next = { ...all };
      if (p) next[id] = p;
      else delete next[id];
      return next;
    });

  const downloadAll = async () => {
    setBusy(true);
    setErrors({});
    for (const m of missing) {
      setProgressOf(m.id, { downloaded: 0, total: m.size_bytes });
      try {
        await api.settings.download(m.id, (e) =>
          setProgressOf(m.id, { downloaded: e.data.downloaded, total: e.data.total ?? m.size_bytes }),
        ).done;
      } catch (e) {
        setErrors((all) => ({ ...all, [m.id]: e instanceof Error ? e.message : String(e) }));
        // Without a required model the app cannot start: the rest can wait.
        if (m.role === 'required') break;
      } finally {
        setProgressOf(m.id, null);
      }
    }
    setBusy(false);
    const next = await onRecheck();
    if (next?.ready && next.models.every((m) => m.installed)) onStart();
  };

  return (
    <main class="setup" data-testid="setup-screen">
      <div class="setup-card">
        <h1>{t('setupTitle')}</h1>
        <p>{t('setupIntro')}</p>
        <table class="catalogue">
          <CatalogueHead />
          <tbody>
            {status.models.map((m) => (
              <tr key={m.id} data-testid="setup-model" data-model-id={m.id} data-installed={String(m.installed)}>
                <td>
                  <div>
                    <strong>{m.id}</strong>{' '}
                    <span class="badge">{m.role === 'required' ? t('setupRequired') : t('setupRecommended')}</span>
                  </div>
                  <div class="muted small">{m.description}</div>
                </td>
                <td data-testid="setup-licence">
                  {m.license}
                  {m.license_url && <div class="muted small">{m.license_url}</div>}
                </td>
                <td>{formatBytes(m.size_bytes ?? NaN)}</td>
                <td class="catalogue-action">
                  {m.installed ? (
                    <span class="good">{t('installed')}</span>
                  ) : progress[m.id] ? (
                    <DownloadProgress progress={progress[m.id] as Progress} />
                  ) : errors[m.id] ? (
                    <span class="bad small" data-testid="setup-error">
                      {t('setupFailed', { reason: errors[m.id] as string })}
                    </span>
                  ) : !m.downloadable ? (
                    <span class="muted small">{t('setupNoSource')}</span>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <div class="modal-actions">
          <button type="button" disabled={busy} onClick={() => void onRecheck()}>
            {t('setupCheckAgain')}
          </button>
          {status.ready && (
            <button type="button" data-testid="setup-start" disabled={busy} onClick={onStart}>
              {t('setupStartNow')}
            </button>
          )}
          {missing.length > 0 && (
            <button type="button" class="primary" data-testid="setup-download" disabled={busy} onClick={() => void downloadAll()}>
              {totalKnown ? t('setupDownload', { size: formatBytes(total) }) : t('setupDownloadUnknownSize')}
            </button>
          )}
        </div>
        {status.models_dir && <p class="muted small">{t('setupOffline', { dir: status.models_dir })}</p>}
      </div>
    </main>
  );
}
