// The admin page of a team server (`doctalk serve --auth users`): the users, their roles and
// knowledge bases; add one (their token is shown once, with a copy button), give one a new token,
// remove one. The same operations as `doctalk users add|list|token|rm`.

import { useEffect, useState } from 'preact/hooks';
import type { IssuedToken, Role, TeamUser } from '../../api/types';
import { copyText } from '../../lib/clipboard';
import { useServices } from '../../state/context';
import { ConfirmDialog } from './ConfirmDialog';

const ROLES: readonly Role[] = ['reader', 'editor', 'admin'];

/** "hr, finance" → ["hr", "finance"]; empty means every knowledge base. */
export function parseKbList(text: string): string[] {
  return Array.from(new Set(text.split(/[,，\s]+/).map((k) => k.trim()).filter(Boolean)));
}

export function UsersPanel() {
  const { api, t, toasts } = useServices();
  const [users, setUsers] = useState<TeamUser[] | null>(null);
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('reader');
  const [kbs, setKbs] = useState('');
  const [issued, setIssued] = useState<IssuedToken | null>(null);
  const [removing, setRemoving] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = () =>
    api.users.list().then(
      (list) => setUsers(list),
      (e: unknown) => toasts.error(e),
    );

  useEffect(() => {
    void load();
  }, []);

  const run = async (job: () => Promise<void>) => {
    setBusy(true);
    try {
      await job();
    } catch (e) {
      toasts.error(e);
    } finally {
      setBusy(false);
    }
  };

  const add = () =>
    run(async () => {
      const made = await api.users.add(name.trim(), role, parseKbList(kbs));
      setIssued(made);
      setName('');
      setKbs('');
      await load();
    });

  const renew = (user: string) =>
    run(async () => {
      setIssued(await api.users.renewToken(user));
    });

  const remove = (user: string) =>
    run(async () => {
      setRemoving(null);
      await api.users.remove(user);
      if (issued?.user.name === user) setIssued(null);
      toasts.info(t('userRemoved', { name: user }));
      await load();
    });

  const roleName = (r: Role) => (r === 'reader' ? t('roleReader') : r === 'editor' ? t('roleEditor') : t('roleAdmin'));

  return (
    <div class="users-panel" data-testid="users-panel">
      <p class="muted">{t('usersHelp')}</p>
      {users === null ? (
        <p class="muted">{t('loading')}</p>
      ) : users.length === 0 ? (
        <p class="muted">{t('usersNone')}</p>
      ) : (
        <table class="catalogue">
          <thead>
            <tr>
              <th>{t('userName')}</th>
              <th>{t('userRole')}</th>
              <th>{t('userKbs')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.name} data-testid="user-row">
                <td>{u.name}</td>
                <td>{roleName(u.role)}</td>
                <td>{u.all_kbs ? t('userAllKbs') : u.kbs.join(', ')}</td>
                <td class="actions">
                  <button type="button" disabled={busy} onClick={() => void renew(u.name)}>
                    {t('userNewToken')}
                  </button>
                  <button type="button" disabled={busy} data-testid="user-remove" onClick={() => setRemoving(u.name)}>
                    {t('userRemove')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <div class="user-add">
        <label>
          {t('userName')}
          <input
            data-testid="user-name"
            value={name}
            maxLength={64}
            pattern="[A-Za-z0-9._-]+"
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </label>
        <label>
          {t('userRole')}
          <select data-testid="user-role" value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {roleName(r)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('userKbs')}
          <input
            data-testid="user-kbs"
            value={kbs}
            placeholder={t('userKbsPlaceholder')}
            onInput={(e) => setKbs(e.currentTarget.value)}
          />
        </label>
        <button type="button" data-testid="user-add" disabled={busy || name.trim() === ''} onClick={() => void add()}>
          {t('userAdd')}
        </button>
      </div>

      {issued && (
        <div class="issued-token" role="status" data-testid="issued-token">
          <p>{t('userTokenOnce', { name: issued.user.name })}</p>
          <code>{issued.token}</code>
          <button
            type="button"
            onClick={() =>
              void copyText(issued.token).then((ok) => (ok ? toasts.info(t('copied')) : toasts.error(t('copyFailed'))))
            }
          >
            {t('copy')}
          </button>
        </div>
      )}

      {removing && (
        <ConfirmDialog
          title={t('userRemove')}
          confirmLabel={t('userRemove')}
          onConfirm={() => void remove(removing)}
          onCancel={() => setRemoving(null)}
        >
          {t('userRemoveBody', { name: removing })}
        </ConfirmDialog>
      )}
    </div>
  );
}
