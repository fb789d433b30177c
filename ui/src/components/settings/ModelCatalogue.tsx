// The models DocTalk can use, with licence, size and whether each is installed. A download always
// shows the licence and size first and starts only once the user agrees.

import { useState } from 'preact/hooks';
import type { CatalogueEntry } from '../../api/types';
import { percent } from '../../lib/checklist';
import { formatBytes } from '../../lib/format';
import { useServices } from '../../state/context';
import { ConfirmDialog } from './ConfirmDialog';
import { DownloadProgress, type Progress } from './DownloadProgress';

interface Props {
  entries: readonly CatalogueEntry[];
  onInstalled: () => void;
}

/** The columns of a model list: model, licence, size, action. */
export function CatalogueHead() {
  const { t } = useServices();
  return (
    <thead>
      <tr>
        <th>{t('modelChoose')}</th>
        <th>{t('licence')}</th>
        <th>{t('size')}</th>
        <th />
      </tr>
    </thead>
  );
}

export function ModelCatalogue({ entries, onInstalled }: Props) {
  const { api, t, toasts } = useServices();
  const [asking, setAsking] = useState<CatalogueEntry | null>(null);
  const [progress, setProgress] = useState<Record<string, Progress>>({});
  // Downloads are not stopped when the dialog closes (over HTTP that would abort them): they run
  // on, and their toast says when they are done.

  const start = (entry: CatalogueEntry) => {
    setAsking(null);
    setProgress((p) => ({ ...p, [entry.id]: { downloaded: 0, total: entry.size_bytes || null } }));
    const handle = api.settings.download(entry.id, (e) =>
      setProgress((p) => ({ ...p, [entry.id]: { downloaded: e.data.downloaded, total: e.data.total ?? entry.size_bytes } })),
    );
    handle.done
      .then(
        () => {
          toasts.info(t('downloaded', { id: entry.id }));
          onInstalled();
        },
        (e: unknown) => toasts.error(e),
      )
      .finally(() => {
        setProgress((p) => {
          const next = { ...p };
          delete next[entry.id];
          return next;
        });
      });
  };

  return (
    <>
      <table class="catalogue" data-testid="model-catalogue">
        <CatalogueHead />
        <tbody>
          {entries.map((entry) => {
            const p = progress[entry.id];
            return (
              <tr key={entry.id} data-testid="catalogue-row" data-model-id={entry.id}>
                <td>
                  <div>
                    <strong>{entry.id}</strong> <span class="badge">{entry.kind}</span>
                  </div>
                  <div class="muted small">{entry.description}</div>
                  {entry.measured && (
                    <div class="small" data-testid="model-scores" title={`${entry.measured.set} · ${entry.measured.machine} · ${entry.measured.date}`}>
                      {t('modelScores', {
                        fc: percent(entry.measured.fact_and_citation),
                        refusals: percent(entry.measured.refusals),
                        first: (entry.measured.first_text_p50_ms / 1000).toFixed(1),
                      })}
                    </div>
                  )}
                </td>
                <td>{entry.license}</td>
                <td>{entry.size_bytes === null ? '—' : formatBytes(entry.size_bytes)}</td>
                <td class="catalogue-action">
                  {entry.installed ? (
                    <span class="good">{t('installed')}</span>
                  ) : p ? (
                    <DownloadProgress progress={p} />
                  ) : (
                    <button type="button" data-testid="download-button" onClick={() => setAsking(entry)}>
                      {t('download')}
                    </button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {asking && (
        <ConfirmDialog
          title={t('confirmDownloadTitle', { id: asking.id })}
          confirmLabel={t('download')}
          onConfirm={() => start(asking)}
          onCancel={() => setAsking(null)}
        >
          <p>{asking.description}</p>
          <p data-testid="download-licence">
            {t('confirmDownloadBody', {
              size: asking.size_bytes === null ? '—' : formatBytes(asking.size_bytes),
              license: asking.license,
            })}
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}
