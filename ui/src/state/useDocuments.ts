// The documents of the chosen knowledge base and the server's health line, reloaded when the kb
// changes and (throttled) while files finish indexing: a folder of a thousand files must not cause a
// thousand reloads.

import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { Api } from '../api';
import type { DocumentInfo, Health } from '../api/types';
import type { ToastStore } from './toasts';

const REFRESH_EVERY_MS = 1500;

/** Equal scalars, or arrays of equal scalars (`also_at`: the server sends a new array each time). */
function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
  }
  return Object.is(a, b);
}

/**
 * `next`, but reusing the objects of `prev` for documents that did not change, so that memoised
 * rows skip re-rendering: during a big import the list is reloaded every second or two, and only
 * the new rows should cost anything.
 */
export function reuseUnchanged(prev: readonly DocumentInfo[], next: DocumentInfo[]): DocumentInfo[] {
  const before = new Map(prev.map((d) => [d.id, d]));
  return next.map((d) => {
    const old = before.get(d.id);
    if (!old) return d;
    const keys = Object.keys(d) as (keyof DocumentInfo)[];
    const same = keys.length === Object.keys(old).length && keys.every((k) => sameValue(old[k], d[k]));
    return same ? old : d;
  });
}

export interface DocumentsState {
  docs: DocumentInfo[];
  loaded: boolean;
  health: Health | null;
  refresh: () => void;
  /** Refreshes at most once per interval, always ending with a refresh after the last call. */
  refreshSoon: () => void;
}

export function useDocuments(api: Api, kb: string, ready: boolean, toasts: ToastStore): DocumentsState {
  const [docs, setDocs] = useState<DocumentInfo[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [health, setHealth] = useState<Health | null>(null);
  const generation = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  const refresh = useCallback(() => {
    // Answers for a kb the user has since left are dropped.
    const mine = ++generation.current;
    api.library.documents().then(
      (list) => {
        if (mine !== generation.current) return;
        setDocs((prev) => reuseUnchanged(prev, Array.isArray(list) ? list : []));
        setLoaded(true);
      },
      (e: unknown) => {
        if (mine === generation.current) setLoaded(true);
        toasts.error(e);
      },
    );
    api.library.health().then(
      (h) => mine === generation.current && setHealth(h),
      () => undefined, // the documents call reports the same outage
    );
  }, [api, toasts]);

  const refreshSoon = useCallback(() => {
    if (timer.current !== null) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      refresh();
    }, REFRESH_EVERY_MS);
  }, [refresh]);

  useEffect(() => {
    if (!ready) return;
    setLoaded(false);
    setDocs([]);
    refresh();
  }, [ready, kb, refresh]);

  useEffect(
    () => () => {
      if (timer.current !== null) clearTimeout(timer.current);
    },
    [],
  );

  return { docs, loaded, health, refresh, refreshSoon };
}
