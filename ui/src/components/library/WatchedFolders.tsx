// Folders the knowledge base follows: added, changed, renamed and deleted files are applied by
// the server or the app in the background. Shows each folder's counts and why files failed, and
// refreshes itself every few seconds while anything is waiting.

import { useCallback, useEffect, useState } from 'preact/hooks';
import type { WatchedFolder } from '../../api/types';
import { useServices } from '../../state/context';

interface Props {
  /** The knowledge base shown (a change reloads the list). */
  kb: string | undefined;
  /** Called after a pass or a change, so that the document list follows. */
  onChanged: () => void;
  /** "Ask this folder": keep questions to its documents. */
  onAsk: (path: string) => void;
}

const POLL_MS = 3000;

export function WatchedFolders({ kb, onChanged, onAsk }: Props) {
  const { t, api, toasts } = useServices();
  const [folders, setFolders] = useState<WatchedFolder[]>([]);
  const [adding, setAdding] = useState(false);
  const [path, setPath] = useState('');
  const [exclude, setExclude] = useState('');
  const [busy, setBusy] = useState(false);
  // In-place confirmation, as for removing a document (a native confirm() blocks the window).
  const [confirming, setConfirming] = useState<string | null>(null);

  const load = useCallback(() => {
    api.library.folders().then(
      (list) => setFolders(Array.isArray(list) ? list : []),
      (e: unknown) => toasts.error(e),
    );
  }, [api, toasts]);

  useEffect(load, [load, kb]);
  // While files wait, or any folder is watched, the counts move on their own.
  useEffect(() => {
    if (folders.length === 0) return;
    const timer = setInterval(() => {
      api.library.folders().then((list) => {
        const next = Array.isArray(list) ? list : [];
        const moved = JSON.stringify(next.map((f) => [f.indexed, f.failed])) !== JSON.stringify(folders.map((f) => [f.indexed, f.failed]));
        setFolders(next);
        if (moved) onChanged();
      }, () => {});
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [api, folders, onChanged]);

  const add = (e: Event) => {
    e.preventDefault();
    const folder = path.trim();
    if (!folder) return;
    setBusy(true);
    const patterns = exclude
      .split(/[,\s]+/)
      .map((p) => p.trim())
      .filter(Boolean);
    api.library.addFolder(folder, [], patterns).then(
      () => {
        setBusy(false);
        setAdding(false);
        setPath('');
        setExclude('');
        toasts.info(t('watchStarted', { path: folder }));
        load();
      },
      (err: unknown) => {
        setBusy(false);
        toasts.error(err);
      },
    );
  };

  const stop = (folder: WatchedFolder) => {
    setConfirming(null);
    api.library.removeFolder(folder.path).then(() => {
      load();
      onChanged();
    }, (err: unknown) => toasts.error(err));
  };

  const syncNow = () => {
    setBusy(true);
    api.library.syncFolders().then(
      (r) => {
        setBusy(false);
        toasts.info(t('syncDone', { added: r.added + r.changed, removed: r.removed, failed: r.failed }));
        load();
        onChanged();
      },
      (err: unknown) => {
        setBusy(false);
        toasts.error(err);
      },
    );
  };

  return (
    <section class="watched-folders" aria-label={t('watchedFolders')}>
      <div class="watched-header">
        <strong class="small">{t('watchedFolders')}</strong>
        <div class="watched-actions">
          {folders.length > 0 && (
            <button type="button" class="small" disabled={busy} data-testid="sync-now" onClick={syncNow}>
              {t('syncNow')}
            </button>
          )}
          <button type="button" class="small" aria-expanded={adding} data-testid="watch-folder" onClick={() => setAdding(!adding)}>
            {t('watchFolder')}
          </button>
        </div>
      </div>
      {adding && (
        <form class="watch-form" onSubmit={add}>
          <label>
            <span class="small">{t('watchPath')}</span>
            <input
              type="text"
              value={path}
              placeholder={t('watchPathPlaceholder')}
              data-testid="watch-path"
              onInput={(e) => setPath(e.currentTarget.value)}
            />
          </label>
          <label>
            <span class="small">{t('watchExclude')}</span>
            <input type="text" value={exclude} placeholder="drafts, *.tmp" onInput={(e) => setExclude(e.currentTarget.value)} />
          </label>
          <button type="submit" data-testid="watch-start" disabled={busy || !path.trim()}>
            {t('watchStart')}
          </button>
        </form>
      )}
      {folders.length > 0 && (
        <ul class="watched-list">
          {folders.map((f) => (
            <li key={f.path} data-testid="watched-folder">
              <div class="watched-path" title={f.path}>
                {f.path}
              </div>
              <div class="muted small">
                {t('watchCounts', { indexed: f.indexed, queued: f.queued, failed: f.failed })}
                {!f.available && <span class="bad"> · {t('watchMissing')}</span>}
                <button type="button" class="link small" data-testid="watch-ask" onClick={() => onAsk(f.path)}>
                  {t('askThisFolder')}
                </button>
                <button type="button" class="link small" data-testid="watch-stop" onClick={() => setConfirming(f.path)}>
                  {t('watchStop')}
                </button>
              </div>
              {confirming === f.path && (
                <div class="small">
                  {t('watchStopConfirm', { path: f.path })}{' '}
                  <button type="button" class="danger" data-testid="watch-stop-confirm" onClick={() => stop(f)}>
                    {t('watchStop')}
                  </button>
                  <button type="button" onClick={() => setConfirming(null)}>
                    {t('cancel')}
                  </button>
                </div>
              )}
              {f.files
                .filter((file) => file.state === 'failed')
                .map((file) => (
                  <div class="bad small" key={file.path} title={file.reason ?? ''}>
                    {file.path.slice(f.path.length + 1)}: {file.reason ?? t('status_failed')}
                  </div>
                ))}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
