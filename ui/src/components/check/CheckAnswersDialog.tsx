// "Check answers": the user writes a few questions about their documents with the fact a right
// answer states, DocTalk asks each (with the model and extractively) and shows a small report, so a
// person can see how far to trust the answers on *their* documents before relying on them.

import { useEffect, useRef, useState } from 'preact/hooks';
import { isAborted, toApiError } from '../../api/errors';
import type { StreamHandle } from '../../api/transport';
import type { CheckProgress, CheckReport } from '../../api/types';
import { parseChecklist } from '../../lib/checklist';
import { useServices } from '../../state/context';
import { CheckReportView } from './CheckReportView';
import { Modal } from '../Modal';

interface Props {
  kb: string;
  onClose: () => void;
}

export function CheckAnswersDialog({ kb, onClose }: Props) {
  const { api, t } = useServices();
  const [text, setText] = useState('');
  const [compare, setCompare] = useState(true);
  const [problem, setProblem] = useState<string | null>(null);
  const [progress, setProgress] = useState<CheckProgress | null>(null);
  const [report, setReport] = useState<CheckReport | null>(null);
  const running = useRef<StreamHandle<CheckReport> | null>(null);
  const [busy, setBusy] = useState(false);

  // Closing the dialog stops a run nobody will read.
  useEffect(() => () => running.current?.stop(), []);

  const run = () => {
    const parsed = parseChecklist(text);
    if (!parsed.ok) {
      setProblem(parsed.reason === 'empty' ? t('checkEmpty') : t('checkNoFacts', { line: parsed.line }));
      return;
    }
    setProblem(null);
    setReport(null);
    setProgress({ mode: '', done: 0, total: parsed.count * (compare ? 2 : 1), q: '', right: false });
    setBusy(true);
    const handle = api.chat.checkAnswers({ ...parsed.request, extractive: compare }, setProgress);
    running.current = handle;
    handle.done.then(
      (r) => setReport(r),
      (e: unknown) => {
        if (!isAborted(e)) setProblem(t('checkFailed', { message: toApiError(e).message }));
      },
    ).finally(() => {
      running.current = null;
      setBusy(false);
    });
  };

  const loadFile = async (file: File | undefined) => {
    if (file) setText(await file.text());
  };

  return (
    <Modal kind="check-answers" label={t('checkAnswersTitle')} testid="check-dialog" onClose={() => !busy && onClose()}>
      <h3>
        {t('checkAnswersTitle')} <span class="muted small">({kb})</span>
      </h3>
      <p class="small">{t('checkIntro')}</p>
      <p class="muted small">{t('checkFormat')}</p>
      <textarea
        data-testid="check-questions"
        rows={6}
        value={text}
        placeholder={t('checkPlaceholder')}
        disabled={busy}
        onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
      />
      <div class="check-options">
        <label class="file-button">
          {t('checkLoadFile')}
          <input
            type="file"
            accept=".jsonl,.json,.txt"
            data-testid="check-file"
            disabled={busy}
            onChange={(e) => void loadFile((e.target as HTMLInputElement).files?.[0])}
          />
        </label>
        <label>
          <input
            type="checkbox"
            checked={compare}
            disabled={busy}
            onChange={(e) => setCompare((e.target as HTMLInputElement).checked)}
          />{' '}
          {t('checkCompare')}
        </label>
      </div>
      {problem && (
        <p class="error small" role="alert" data-testid="check-problem">
          {problem}
        </p>
      )}
      {busy && progress && (
        <div class="check-progress" data-testid="check-progress">
          <progress max={progress.total || 1} value={progress.done} />
          <span class="small">{t('checkProgress', { done: progress.done, total: progress.total })}</span>
        </div>
      )}
      {report && <CheckReportView report={report} />}
      <div class="modal-actions">
        <button type="button" onClick={onClose} disabled={busy}>
          {t('close')}
        </button>
        {busy ? (
          <button type="button" data-testid="check-stop" onClick={() => running.current?.stop()}>
            {t('checkStop')}
          </button>
        ) : (
          <button type="button" class="primary" data-testid="check-run" onClick={run}>
            {t('checkRun')}
          </button>
        )}
      </div>
    </Modal>
  );
}
