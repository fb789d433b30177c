// An answer's text with its citation markers turned into chips that open the cited source.

import { useMemo } from 'preact/hooks';
import type { Source } from '../../api/types';
import { parseCitations } from '../../lib/citations';
import { useServices } from '../../state/context';

interface Props {
  text: string;
  sources: readonly Source[];
  onCite: (source: Source) => void;
}

export function AnswerText({ text, sources, onCite }: Props) {
  const { t } = useServices();
  const byNumber = useMemo(() => new Map(sources.map((s) => [s.n, s])), [sources]);
  const parts = useMemo(() => parseCitations(text, new Set(byNumber.keys())), [text, byNumber]);
  return (
    <div class="answer-text">
      {parts.map((part, i) => {
        if (part.kind === 'text') return <span key={i}>{part.text}</span>;
        const source = byNumber.get(part.n) as Source;
        return (
          <button
            key={i}
            type="button"
            class="citation"
            data-testid="citation"
            data-n={part.n}
            title={t('citeTitle', { n: part.n, title: source.title })}
            onClick={() => onCite(source)}
          >
            {part.n}
          </button>
        );
      })}
    </div>
  );
}
