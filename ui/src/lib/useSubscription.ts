// Reads a value from an external store and re-renders when the store says it changed.
// (Preact's core hooks have no useSyncExternalStore; this is the small part of it we need.)
// `subscribe` should be stable (useCallback) or every render resubscribes.

import { useEffect, useReducer, useRef } from 'preact/hooks';

export function useSubscription<V>(subscribe: (onChange: () => void) => () => void, read: () => V, throttleMs = 0): V {
  const [, bump] = useReducer((n: number) => n + 1, 0);
  const value = read();
  const latest = useRef({ value, read });
  latest.current = { value, read };

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const onChange =
      throttleMs > 0
        ? () => {
            // Trailing throttle: at most one re-render per interval, always showing the latest state.
            if (timer === null) {
              timer = setTimeout(() => {
                timer = null;
                bump(0);
              }, throttleMs);
            }
          }
        : () => bump(0);
    const unsubscribe = subscribe(onChange);
    // The store may have changed between this render and the subscription.
    if (!Object.is(latest.current.read(), latest.current.value)) bump(0);
    return () => {
      unsubscribe();
      if (timer !== null) clearTimeout(timer);
    };
  }, [subscribe, throttleMs]);
  return value;
}
