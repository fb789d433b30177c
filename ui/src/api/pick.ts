// Chooses the transport for this page: Tauri's IPC inside the desktop shell, HTTP in a browser.

import { HttpTransport } from './http';
import { TauriTransport } from './tauri';
import type { Transport } from './transport';

const TOKEN_KEY = 'doctalk.token';

export function isTauri(win: Window = window): boolean {
  return '__TAURI_INTERNALS__' in win;
}

/**
 * The access token for a server bound beyond localhost: `?token=` in the page URL on first load,
 * then from sessionStorage (so reloads keep working). The token is removed from the address bar so
 * that it does not end up in screenshots, bookmarks or the history.
 */
export function readToken(win: Window = window): string | null {
  const url = new URL(win.location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    try {
      win.sessionStorage.setItem(TOKEN_KEY, fromUrl);
    } catch {
      // Storage disabled: the token still works for this page load.
    }
    url.searchParams.delete('token');
    try {
      win.history.replaceState(win.history.state, '', url.toString());
    } catch {
      // Some embedded views forbid replaceState; leaving the URL alone is harmless.
    }
    return fromUrl;
  }
  try {
    return win.sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function pickTransport(win: Window = window): Transport {
  if (isTauri(win)) return new TauriTransport();
  return new HttpTransport({ token: readToken(win) });
}
