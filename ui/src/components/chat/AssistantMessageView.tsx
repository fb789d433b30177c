// One answer: what was searched, the text with citation chips (streamed as it arrives), how it was
// made (LLM or extractive, and why no LLM if one was expected), copy, and the sources.

import { useMemo, useRef } from 'preact/hooks';
import type { Source } from '../../api/types';
import { parseCitations } from '../../lib/citations';
import { memo } from '../../lib/memo';
import type { AssistantMessage } from '../../state/chatSession';
import { useServices } from '../../state/context';
import { AnswerText } from './AnswerText';
import { CopyButton } from './CopyButton';
import { ReadAloudButton } from './ReadAloudButton';
import { SourceList } from './SourceList';

interface Props {
  message: AssistantMessage;
  onOpenSource: (source: Source) => void;
}

function normalise(s: string): string {
  return s.trim().replace(/\s+/g, ' ').toLowerCase();
}

function AssistantMessageInner({ message: m, onOpenSource }: Props) {
  const { t, speakAnswers } = useServices();
  // Only an answer seen streaming in this window is spoken by itself, never one from history.
  const live = useRef(m.state === 'streaming');
  const cited = useMemo(() => {
    const known = new Set(m.sources.map((s) => s.n));
    const numbers = parseCitations(m.text, known).flatMap((p) => (p.kind === 'cite' ? [p.n] : []));
    return new Set(numbers);
  }, [m.text, m.sources]);
  const rewritten = m.query !== null && m.query !== '' && normalise(m.query) !== normalise(m.question);

  return (
    <article class={`message message-assistant state-${m.state}`} data-testid="message-assistant" data-state={m.state}>
      {rewritten && (
        <div class="rewritten-query muted small" data-testid="rewritten-query">
          {t('searchedFor', { query: m.query as string })}
        </div>
      )}
      <AnswerText text={m.text} sources={m.sources} onCite={onOpenSource} />
      {m.state === 'streaming' && <span class="caret" aria-hidden="true" />}
      {m.state === 'stopped' && <div class="muted small">{t('stopped')}</div>}
      {m.state === 'error' && <div class="bad small">{m.error ?? t('answerFailed')}</div>}
      {m.state !== 'streaming' && (
        <div class="message-footer">
          {m.mode && (
            <span
              class={`badge mode-${m.mode}`}
              data-testid="mode-badge"
              title={m.mode === 'llm' ? t('modeLlmTitle', { model: m.model ?? '' }) : t('modeExtractiveTitle')}
            >
              {m.mode === 'llm' ? t('modeLlm') : t('modeExtractive')}
            </span>
          )}
          {m.wholeDocument && (
            <span class="muted small whole-document" data-testid="whole-document">
              {t('wholeDocument', { n: String(m.sources.length) })}
            </span>
          )}
          {m.fallbackReason && (
            <span class="muted small fallback" data-testid="fallback-reason">
              {t('fallback', { reason: m.fallbackReason })}
            </span>
          )}
          {m.unverified.length > 0 && (
            <span class="warn small unverified" data-testid="unverified-claims">
              {t('unverified', { claims: m.unverified.map((c) => `“${c}”`).join(', ') })}
            </span>
          )}
          {m.text && <CopyButton text={m.text} />}
          {m.text && m.state === 'done' && <ReadAloudButton text={m.text} autoPlay={speakAnswers && live.current} />}
        </div>
      )}
      {/* Read whole, every passage is a source: the cited ones are listed. */}
      <SourceList
        sources={m.wholeDocument && cited.size > 0 ? m.sources.filter((s) => cited.has(s.n)) : m.sources}
        cited={cited}
        onOpen={onOpenSource}
      />
    </article>
  );
}

export const AssistantMessageView = memo(AssistantMessageInner);
