// Who the UI talks as, and the team server's users (admins only; `doctalk serve --auth users`).

import type { Transport } from './transport';
import type { IssuedToken, Me, Role, TeamUser } from './types';

export class UsersClient {
  readonly #t: Transport;

  constructor(transport: Transport) {
    this.#t = transport;
  }

  me(): Promise<Me> {
    return this.#t.request({ method: 'GET', path: '/api/me', command: 'me' });
  }

  list(): Promise<TeamUser[]> {
    return this.#t.request({ method: 'GET', path: '/api/users', command: 'users_list' });
  }

  /** `kbs` empty: every knowledge base. */
  add(name: string, role: Role, kbs: string[]): Promise<IssuedToken> {
    const user = { name, role, kbs };
    return this.#t.request({ method: 'POST', path: '/api/users', body: user, command: 'users_add', args: { user } });
  }

  remove(name: string): Promise<{ removed: string }> {
    return this.#t.request({
      method: 'DELETE',
      path: `/api/users/${encodeURIComponent(name)}`,
      command: 'users_remove',
      args: { name },
    });
  }

  renewToken(name: string): Promise<IssuedToken> {
    return this.#t.request({
      method: 'POST',
      path: `/api/users/${encodeURIComponent(name)}/token`,
      command: 'users_token',
      args: { name },
    });
  }
}
