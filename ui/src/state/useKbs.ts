// The knowledge base the UI works in. The choice is remembered on this machine (localStorage) and
// sent with every call (?kb= / `kb`), rather than changing the server's default, so that two windows
// can look at two knowledge bases at once.

import type { RefObject } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { Api } from '../api';
import type { KbList } from '../api/types';
import type { ToastStore } from './toasts';

const KB_KEY = 'doctalk.kb';

function stored(): string {
  try {
    return localStorage.getItem(KB_KEY) ?? '';
  } catch {
    return '';
  }
}

export interface KbState {
  kb: string;
  kbs: KbList['kbs'];
  /** True once the chosen kb is settled (so documents are not loaded twice on start). */
  ready: boolean;
  select: (name: string) => void;
  create: (name: string) => Promise<boolean>;
  refresh: () => void;
}

export function useKbs(api: Api, kbRef: RefObject<string | undefined>, toasts: ToastStore): KbState {
  const [kb, setKb] = useState(() => {
    const initial = stored();
    kbRef.current = initial || undefined;
    return initial;
  });
  const [kbs, setKbs] = useState<KbList['kbs']>([]);
  const [ready, setReady] = useState(false);

  const select = useCallback(
    (name: string) => {
      kbRef.current = name || undefined;
      setKb(name);
      try {
        localStorage.setItem(KB_KEY, name);
      } catch {
        // Not remembered across restarts; still used for this session.
      }
    },
    [kbRef],
  );

  const refresh = useCallback(() => {
    api.library.kbs().then(
      (list) => setKbs(Array.isArray(list.kbs) ? list.kbs : []),
      (e: unknown) => toasts.error(e),
    );
  }, [api, toasts]);

  useEffect(() => {
    api.library
      .kbs()
      .then((list) => {
        const names = Array.isArray(list.kbs) ? list.kbs : [];
        setKbs(names);
        const mine = kbRef.current;
        if (list.current !== null && (!mine || !names.some((k) => k.name === mine))) select(list.current);
      })
      .catch((e: unknown) => toasts.error(e))
      .finally(() => setReady(true));
  }, [api, kbRef, select, toasts]);

  const create = useCallback(
    async (name: string) => {
      try {
        const created = await api.library.createKb(name);
        select(created?.name ?? name);
        refresh();
        return true;
      } catch (e) {
        toasts.error(e);
        return false;
      }
    },
    [api, refresh, select, toasts],
  );

  return { kb, kbs, ready, select, create, refresh };
}
