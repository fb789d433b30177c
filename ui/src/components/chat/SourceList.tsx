// The sources under an answer: number, title, and where in the document (page, or FAQ row).

import type { Source } from '../../api/types';
import { sourceLocation } from '../../lib/format';
import { useServices } from '../../state/context';

interface Props {
  sources: readonly Source[];
  cited: ReadonlySet<number>;
  onOpen: (source: Source) => void;
}

export function SourceList({ sources, cited, onOpen }: Props) {
  const { t } = useServices();
  if (sources.length === 0) return null;
  return (
    <details class="sources" open>
      <summary>{t('sources')}</summary>
      <ol>
        {sources.map((s) => {
          const where = sourceLocation(s, t);
          return (
            <li key={s.chunk_id || s.n} data-testid="source-item" data-n={s.n} class={cited.has(s.n) ? 'cited' : ''}>
              <button type="button" class="link-button" onClick={() => onOpen(s)}>
                <span class="source-n">[{s.n}]</span> <span class="source-title">{s.title || s.path}</span>
                {where && <span class="muted"> · {where}</span>}
              </button>
            </li>
          );
        })}
      </ol>
    </details>
  );
}
