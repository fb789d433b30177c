// "Summarise" on a document: a summary made point by point from its passages, each point cited;
// a citation opens its passage beside the chat. Progress while it is made, and a stop button.

import { useEffect, useRef, useState } from 'preact/hooks';
import { isAborted, toApiError } from '../../api/errors';
import type { StreamHandle } from '../../api/transport';
import type { DocumentInfo, DocumentSummary, Source, SummaryLength, SummaryProgress } from '../../api/types';
import { useServices } from '../../state/context';
import { AnswerText } from '../chat/AnswerText';
import { Modal } from '../Modal';

interface Props {
  doc: DocumentInfo;
  onOpenSource: (source: Source) => void;
  onClose: () => void;
}

export function SummaryDialog({ doc, onOpenSource, onClose }: Props) {
  const { api, t } = useServices();
  const [length, setLength] = useState<SummaryLength>('short');
  const [progress, setProgress] = useState<SummaryProgress | null>(null);
  const [summary, setSummary] = useState<DocumentSummary | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const running = useRef<StreamHandle<DocumentSummary> | null>(null);

  const start = (len: SummaryLength) => {
    running.current?.stop();
    setSummary(null);
    setProblem(null);
    setProgress({ done: 0, total: 0 });
    const handle = api.library.summarize(doc.id, len, setProgress);
    running.current = handle;
    handle.done
      .then(
        (s) => {
          if (running.current === handle) setSummary(s);
        },
        (e: unknown) => {
          if (!isAborted(e)) setProblem(toApiError(e).message);
        },
      )
      .finally(() => {
        if (running.current === handle) {
          running.current = null;
          setProgress(null);
        }
      });
  };

  // Start at once; closing the dialog stops a summary nobody will read.
  useEffect(() => {
    start('short');
    return () => running.current?.stop();
  }, []);

  const busy = progress !== null;
  return (
    <Modal kind="summary-dialog" label={t('summaryTitle', { title: doc.title })} testid="summary-dialog" onClose={onClose}>
      <h3>{t('summaryTitle', { title: doc.title || doc.path })}</h3>
      <div class="summary-options">
        {(['short', 'long'] as const).map((len) => (
          <label key={len}>
            <input
              type="radio"
              name="summary-length"
              data-testid={`summary-${len}`}
              checked={length === len}
              disabled={busy}
              onChange={() => {
                setLength(len);
                start(len);
              }}
            />{' '}
            {len === 'short' ? t('summaryShort') : t('summaryLong')}
          </label>
        ))}
      </div>
      {busy && (
        <div class="check-progress" data-testid="summary-progress">
          <progress max={progress.total || 1} value={progress.done} />
          <span class="small">
            {progress.total ? t('summaryProgress', { done: progress.done, total: progress.total }) : t('summaryStarting')}
          </span>
        </div>
      )}
      {problem && (
        <p class="error small" role="alert" data-testid="summary-problem">
          {problem}
        </p>
      )}
      {summary && (
        <div class="summary-body" data-testid="summary-text" lang={summary.lang}>
          <AnswerText
            text={summary.summary}
            sources={summary.sources}
            onCite={(s) => {
              onOpenSource(s);
              onClose();
            }}
          />
          <p class="muted small" data-testid="summary-meta">
            {t('summaryMeta', {
              read: summary.passages_read,
              total: summary.passages_total,
              by: summary.model ?? t('summaryExtractive'),
            })}
            {summary.cancelled && ` ${t('summaryStopped')}`}
            {summary.fallback_reason && ` ${summary.fallback_reason}`}
          </p>
          {summary.unverified.length > 0 && (
            <p class="muted small">{t('summaryUnverified', { claims: summary.unverified.map((u) => u.claim).join(', ') })}</p>
          )}
        </div>
      )}
      <div class="modal-actions">
        {busy && (
          <button type="button" data-testid="summary-stop" onClick={() => running.current?.stop()}>
            {t('checkStop')}
          </button>
        )}
        <button type="button" onClick={onClose}>
          {t('close')}
        </button>
      </div>
    </Modal>
  );
}
