// One file's progress: queued → reading → embedding n/total → saving → indexed / unchanged /
// failed (with the diagnostics). Subscribes to its own row only, so other files' progress never
// re-renders it.

import { useCallback, useState } from 'preact/hooks';
import type { Diagnostic } from '../../api/types';
import type { T } from '../../i18n';
import { memo } from '../../lib/memo';
import type { UploadQueue } from '../../lib/uploadQueue';
import type { UploadRow } from '../../lib/uploads';
import { useSubscription } from '../../lib/useSubscription';
import { useServices } from '../../state/context';

interface Props {
  queue: UploadQueue;
  id: string;
}

function statusLabel(row: UploadRow, t: T): string {
  if (row.status === 'embed' && row.embed) {
    const { done, total, etaS } = row.embed;
    if (typeof etaS === 'number' && done < total) return t('status_embed_eta', { done, total, seconds: etaS });
    return t('status_embed', { done, total });
  }
  if (row.status === 'embed') return t('status_embed', { done: 0, total: '…' });
  if (row.status === 'ocr') return t('status_ocr', { done: row.ocr?.done ?? 0, total: row.ocr?.total ?? '…' });
  return t(`status_${row.status}`);
}

/** Client-side failures get words in the UI's language; the server's own messages are shown as sent. */
function diagnosticText(d: Diagnostic, t: T): string {
  const message =
    d.code === 'payload_too_large' ? t('tooLarge') : d.code === 'cancelled' ? t('cancelled') : d.message;
  return d.page !== null && d.page !== undefined ? `${d.code}: ${message} (${t('page', { n: d.page })})` : `${d.code}: ${message}`;
}

function UploadRowInner({ queue, id }: Props) {
  const { t } = useServices();
  const subscribe = useCallback((fn: () => void) => queue.subscribeRow(id, fn), [queue, id]);
  const row = useSubscription(subscribe, () => queue.row(id));
  if (!row) return null;
  const failed = row.status === 'failed';
  const percent = row.embed && row.embed.total > 0 ? Math.round((100 * row.embed.done) / row.embed.total) : null;
  return (
    <li
      class={`upload-row upload-${row.status}`}
      data-testid="upload-row"
      data-status={row.status}
      data-name={row.name}
      title={row.path}
    >
      <div class="upload-line">
        <span class="upload-name">{row.name}</span>
        <span class="upload-status">{statusLabel(row, t)}</span>
      </div>
      {percent !== null && (
        <div class="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent}>
          <div class="progress-bar" style={{ width: `${percent}%` }} />
        </div>
      )}
      {failed && row.size === 0 && (
        <div class="upload-error" data-testid="upload-error">
          {t('emptyFile')}
        </div>
      )}
      {row.diagnostics.map((d, i) => (
        <div key={i} class={failed ? 'upload-error' : 'upload-warning'} data-testid={failed ? 'upload-error' : 'upload-warning'}>
          {diagnosticText(d, t)}
        </div>
      ))}
      {queue.needsPassword(id) && <PasswordForm t={t} onSubmit={(password) => queue.unlock(id, password)} />}
    </li>
  );
}

/** Asks for a protected PDF's password, right under the file's error; the password goes with one
 * retry of this file and is not kept by the UI. */
function PasswordForm({ t, onSubmit }: { t: T; onSubmit: (password: string) => void }) {
  const [password, setPassword] = useState('');
  return (
    <form
      class="upload-password"
      data-testid="password-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (password) onSubmit(password);
      }}
    >
      <input
        type="password"
        autoComplete="off"
        aria-label={t('pdfPassword')}
        placeholder={t('pdfPassword')}
        title={t('passwordNotKept')}
        value={password}
        onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
      />
      <button type="submit" disabled={!password}>
        {t('openWithPassword')}
      </button>
    </form>
  );
}

export const UploadRowView = memo(UploadRowInner);
