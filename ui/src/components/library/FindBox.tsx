// "Find documents" (Ctrl/Cmd+K): filters the document list by title or path as you type, and offers
// matching passages from a search once the query is long enough.

import type { RefObject } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { SearchHit } from '../../api/types';
import { sourceLocation } from '../../lib/format';
import { useServices } from '../../state/context';

interface Props {
  query: string;
  onQuery: (q: string) => void;
  onOpenHit: (hit: SearchHit) => void;
  inputRef: RefObject<HTMLInputElement | null>;
  /** Every knowledge base's name: with more than one, passages can be searched in all of them. */
  kbNames?: string[];
}

const SEARCH_DELAY_MS = 250;

export function FindBox({ query, onQuery, onOpenHit, inputRef, kbNames = [] }: Props) {
  const { api, t, toasts } = useServices();
  const [hits, setHits] = useState<SearchHit[]>([]);
  const [searching, setSearching] = useState(false);
  const [everywhere, setEverywhere] = useState(false);
  const across = everywhere && kbNames.length > 1 ? kbNames : undefined;
  const acrossKey = across?.join(',') ?? '';

  useEffect(() => {
    const q = query.trim();
    if (q.length < 2) {
      setHits([]);
      return;
    }
    let current = true;
    // Debounced: one search when typing pauses, not one per key.
    const timer = setTimeout(() => {
      setSearching(true);
      api.chat
        .search(q, 5, across)
        .then((found) => current && setHits(Array.isArray(found) ? found : []))
        .catch((e: unknown) => current && toasts.error(e))
        .finally(() => current && setSearching(false));
    }, SEARCH_DELAY_MS);
    return () => {
      current = false;
      clearTimeout(timer);
    };
    // `acrossKey` stands for `across`, a new array every render.
  }, [api, toasts, query, acrossKey]);

  return (
    <div class="find-box">
      <input
        ref={inputRef}
        type="search"
        data-testid="find-input"
        value={query}
        placeholder={t('findPlaceholder')}
        aria-label={t('findDocs')}
        title={t('findDocs')}
        onInput={(e) => onQuery(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            onQuery('');
            e.currentTarget.blur();
          }
        }}
      />
      {kbNames.length > 1 && query.trim().length >= 2 && (
        <label class="muted small find-everywhere">
          <input
            type="checkbox"
            data-testid="find-everywhere"
            checked={everywhere}
            onChange={(e) => setEverywhere(e.currentTarget.checked)}
          />{' '}
          {t('findEverywhere')}
        </label>
      )}
      {query.trim().length >= 2 && (hits.length > 0 || searching) && (
        <div class="find-hits">
          <div class="muted small">{searching ? t('searching') : t('passages')}</div>
          <ul>
            {hits.map((hit) => (
              <li key={hit.chunk_id}>
                <button type="button" class="link-button find-hit" data-testid="find-hit" onClick={() => onOpenHit(hit)}>
                  {hit.kb && <span class="muted small find-kb">[{hit.kb}] </span>}
                  <strong>{hit.title}</strong>
                  <span class="muted small"> {sourceLocation({ kind: hit.kind, page: hit.page, row: null }, t)}</span>
                  <span class="find-snippet">{hit.text.slice(0, 140)}</span>
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}
