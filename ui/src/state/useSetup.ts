// Whether the app can start: the models it needs are on this computer (first run of a packaged
// app: they are not yet). A reply that cannot be read (an older server) does not hold the app back.

import { useCallback, useEffect, useState } from 'preact/hooks';
import type { Api } from '../api';
import type { SetupStatus } from '../api/types';

export type SetupPhase = 'checking' | 'needed' | 'ready';

export interface Setup {
  phase: SetupPhase;
  status: SetupStatus | null;
  recheck: () => Promise<SetupStatus | null>;
  start: () => void;
}

function isStatus(v: unknown): v is SetupStatus {
  return typeof v === 'object' && v !== null && typeof (v as SetupStatus).ready === 'boolean' && Array.isArray((v as SetupStatus).models);
}

export function useSetup(api: Api): Setup {
  const [phase, setPhase] = useState<SetupPhase>('checking');
  const [status, setStatus] = useState<SetupStatus | null>(null);

  const recheck = useCallback(
    () =>
      api.settings.setupStatus().then(
        (s) => {
          if (!isStatus(s)) return null;
          setStatus(s);
          return s;
        },
        () => null,
      ),
    [api],
  );

  useEffect(() => {
    void recheck().then((s) => setPhase(s && !s.ready ? 'needed' : 'ready'));
  }, [recheck]);

  const start = useCallback(() => setPhase('ready'), []);
  return { phase, status, recheck, start };
}
