// "Train on this knowledge base": fine-tunes a LoRA adapter for the local model on the knowledge
// base's FAQ pairs. The dialog first shows what the run would do and how long it would take here
// (the server times a training step), then the run's progress; Stop saves a checkpoint that the
// next run resumes; the end compares the base and the tuned model on the held-out questions, and
// "Use this adapter" makes answers use it.

import { useEffect, useRef, useState } from 'preact/hooks';
import { isAborted, toApiError } from '../../api/errors';
import type { StreamHandle } from '../../api/transport';
import type { TuneOutcome, TunePlan, TuneProgress, TuneRequest } from '../../api/types';
import { formatDuration } from '../../lib/format';
import { useServices } from '../../state/context';
import { Modal } from '../Modal';

interface Props {
  kb: string;
  onClose: () => void;
}

/** Rewrites of each question the model writes when asked to (the checkbox). */
export const REWRITES_PER_QUESTION = 3;

/** Where a run stands, from its progress events. */
interface Running {
  step: number;
  steps: number;
  loss: number | null;
  etaSeconds: number | null;
  /** What it does besides training steps: measuring, saving, comparing. */
  phase: 'preparing' | 'paraphrasing' | 'validating' | 'training' | 'checkpoint' | 'comparing';
  compared?: { done: number; total: number };
  paraphrased?: { done: number; total: number };
}

export function TrainDialog({ kb, onClose }: Props) {
  const { api, t, toasts } = useServices();
  const [plan, setPlan] = useState<TunePlan | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [running, setRunning] = useState<Running | null>(null);
  const [outcome, setOutcome] = useState<TuneOutcome | null>(null);
  const [stopped, setStopped] = useState(false);
  const [inUse, setInUse] = useState(false);
  const [rewrite, setRewrite] = useState(false);
  const handle = useRef<StreamHandle<TuneOutcome> | null>(null);
  // The plan and the run take the same settings: a checkpoint resumes only the run it belongs to.
  const options: TuneRequest = rewrite ? { paraphrases: REWRITES_PER_QUESTION } : {};

  // Only the latest estimate counts: an earlier one (the other rewrite setting) may come back later.
  const asked = useRef(0);
  const estimate = () => {
    const mine = ++asked.current;
    setPlan(null);
    setProblem(null);
    api.tuning.estimate(options).then(
      (p) => mine === asked.current && setPlan(p),
      (e: unknown) => mine === asked.current && setProblem(toApiError(e).message),
    );
  };
  useEffect(estimate, [kb, rewrite]);
  // Closing the dialog stops the run; its checkpoint keeps the steps done.
  useEffect(() => () => handle.current?.stop(), []);

  const start = (request: TuneRequest) => {
    setProblem(null);
    setOutcome(null);
    setStopped(false);
    setInUse(false);
    setRunning({
      step: request.resume ? (plan?.resumable_at ?? 0) : 0,
      steps: plan?.steps ?? 0,
      loss: null,
      etaSeconds: null,
      phase: 'preparing',
    });
    const run = api.tuning.run(request, (p) => setRunning((r) => (r ? advance(r, p) : r)));
    handle.current = run;
    run.done
      .then(
        (o) => {
          setOutcome(o);
          setInUse(o.in_use);
        },
        (e: unknown) => {
          // A stopped run saves its checkpoint, a failed one may have left one: the new plan
          // offers to resume it or to start over.
          estimate();
          if (isAborted(e)) setStopped(true);
          else setProblem(t('tuneFailed', { message: toApiError(e).message }));
        },
      )
      .finally(() => {
        handle.current = null;
        setRunning(null);
      });
  };

  const use = (adapter: string) => {
    api.settings.set({ model: { adapter } }).then(
      () => {
        setInUse(true);
        toasts.info(t('tuneInUse', { adapter }));
      },
      (e: unknown) => setProblem(toApiError(e).message),
    );
  };

  const busy = running !== null;
  return (
    <Modal kind="train-dialog" label={t('tuneTitle')} testid="train-dialog" onClose={() => !busy && onClose()}>
      <h3>
        {t('tuneTitle')} <span class="muted small">({kb})</span>
      </h3>
      <p class="small">{t('tuneIntro')}</p>
      {!plan && !problem && !busy && !outcome && (
        <p class="muted small" data-testid="train-estimating">
          {t('tuneEstimating')}
        </p>
      )}
      {plan && !busy && !outcome && <PlanView plan={plan} stopped={stopped} />}
      {!busy && !outcome && (
        <label class="small train-rewrite">
          <input
            type="checkbox"
            data-testid="train-rewrite"
            disabled={!plan && !problem}
            checked={rewrite}
            onChange={(e) => setRewrite((e.target as HTMLInputElement).checked)}
          />{' '}
          {t('tuneRewrite', { n: REWRITES_PER_QUESTION })}
        </label>
      )}
      {problem && (
        <p class="error small" role="alert" data-testid="train-problem">
          {problem}
        </p>
      )}
      {running && <ProgressView running={running} />}
      {outcome && <OutcomeView outcome={outcome} />}
      <div class="modal-actions">
        <button type="button" data-testid="train-close" onClick={onClose} disabled={busy}>
          {t('close')}
        </button>
        {running && stoppable(running) && (
          <button type="button" data-testid="train-stop" onClick={() => handle.current?.stop()}>
            {t('tuneStop')}
          </button>
        )}
        {!busy && plan && !outcome && plan.resumable_at !== null && (
          <>
            <button type="button" data-testid="train-restart" onClick={() => start({ ...options, restart: true })}>
              {t('tuneStartOver')}
            </button>
            <button type="button" class="primary" data-testid="train-resume" onClick={() => start({ ...options, resume: true })}>
              {t('tuneResume', { step: plan.resumable_at, steps: plan.steps })}
            </button>
          </>
        )}
        {!busy && plan && !outcome && plan.resumable_at === null && (
          <button
            type="button"
            class="primary"
            data-testid="train-start"
            onClick={() => start(plan.checkpoint_conflict ? { ...options, restart: true } : options)}
          >
            {t('tuneStart')}
          </button>
        )}
        {outcome && !outcome.stopped && (
          <button
            type="button"
            class="primary"
            data-testid="train-use"
            disabled={inUse}
            onClick={() => use(outcome.adapter_name)}
          >
            {inUse ? t('tuneUsed') : t('tuneUse')}
          </button>
        )}
      </div>
    </Modal>
  );
}

/**
 * Until its last step a run can stop at a checkpoint; after it (the held-out loss, the adapter
 * written, the comparison) it finishes: stopping then would only hide the adapter it wrote.
 */
function stoppable(r: Running): boolean {
  return r.phase !== 'comparing' && !(r.steps > 0 && r.step >= r.steps);
}

function advance(r: Running, p: TuneProgress): Running {
  switch (p.event) {
    case 'paraphrasing':
      return { ...r, phase: 'paraphrasing', paraphrased: { done: p.done, total: p.total } };
    case 'prepared':
      return { ...r, step: p.resumed_at, steps: p.steps, phase: p.resumed_at > 0 ? 'training' : 'validating' };
    case 'validated':
      return { ...r, phase: p.when === 'before' ? 'training' : 'comparing' };
    case 'step':
      return { ...r, step: p.step, steps: p.steps, loss: p.loss, etaSeconds: p.eta_s, phase: 'training' };
    case 'checkpoint':
      return { ...r, phase: 'checkpoint' };
    case 'comparing':
      return { ...r, phase: 'comparing', compared: { done: p.done, total: p.total } };
  }
}

function PlanView({ plan, stopped }: { plan: TunePlan; stopped: boolean }) {
  const { t } = useServices();
  const base = plan.base.split(/[\\/]/).pop() ?? plan.base;
  return (
    <div class="train-plan" data-testid="train-plan">
      {stopped && <p class="small">{t('tuneStopped')}</p>}
      <p class="small">
        {t('tunePairs', { pairs: plan.pairs, train: plan.train_pairs, held: plan.validation_pairs })}
        {plan.too_long > 0 && ` ${t('tuneTooLong', { n: plan.too_long })}`}
      </p>
      <p class="small">{t('tuneBase', { model: base, adapter: plan.adapter_name })}</p>
      <p class="small" data-testid="train-estimate">
        {t('tuneEstimate', {
          time: plan.seconds < 60 ? t('tuneUnderAMinute') : formatDuration(plan.seconds),
          steps: plan.steps,
          speed: Math.round(plan.tokens_per_second),
        })}
      </p>
      {plan.replaces && <p class="muted small">{t('tuneReplaces', { adapter: plan.adapter_name })}</p>}
      {plan.resumable_at !== null && (
        <p class="small" data-testid="train-resumable">
          {t('tuneResumable', { step: plan.resumable_at, steps: plan.steps })}
        </p>
      )}
      {plan.checkpoint_conflict && <p class="muted small">{t('tuneConflict')}</p>}
      <p class="muted small">{t('tuneKeepOpen')}</p>
    </div>
  );
}

function ProgressView({ running }: { running: Running }) {
  const { t } = useServices();
  const phase = {
    preparing: t('tunePreparing'),
    paraphrasing: running.paraphrased
      ? t('tuneParaphrasing', { done: running.paraphrased.done, total: running.paraphrased.total })
      : t('tunePreparing'),
    validating: t('tuneValidating'),
    training: t('tuneTraining', { step: running.step, steps: running.steps }),
    checkpoint: t('tuneCheckpoint', { step: running.step }),
    comparing: running.compared
      ? t('tuneComparing', { done: running.compared.done, total: running.compared.total })
      : t('tuneValidating'),
  }[running.phase];
  const [value, max] =
    running.phase === 'comparing' && running.compared
      ? [running.compared.done, running.compared.total]
      : running.phase === 'paraphrasing' && running.paraphrased
        ? [running.paraphrased.done, running.paraphrased.total]
        : [running.step, running.steps || 1];
  return (
    <div class="check-progress train-progress" data-testid="train-progress">
      <progress max={max} value={value} />
      <span class="small">
        {phase}
        {running.loss !== null && running.phase === 'training' && ` · ${t('tuneLoss', { loss: running.loss.toFixed(3) })}`}
        {running.etaSeconds !== null &&
          running.phase === 'training' &&
          ` · ${t('tuneTimeLeft', { time: formatDuration(running.etaSeconds) })}`}
      </span>
    </div>
  );
}

function OutcomeView({ outcome }: { outcome: TuneOutcome }) {
  const { t } = useServices();
  const c = outcome.comparison;
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  return (
    <div class="train-outcome" data-testid="train-outcome">
      <p class="small">
        {outcome.stopped
          ? t('tuneStopped')
          : t('tuneDone', { steps: outcome.steps, time: formatDuration(outcome.seconds) })}
      </p>
      {outcome.validation_loss_before !== null && outcome.validation_loss_after !== null && (
        <p class="small" data-testid="train-loss">
          {t('tuneHeldOutLoss', {
            before: outcome.validation_loss_before.toFixed(3),
            after: outcome.validation_loss_after.toFixed(3),
          })}
        </p>
      )}
      {c && (
        <>
          <table class="check-totals" data-testid="train-comparison">
            <thead>
              <tr>
                <th />
                <th>{t('tuneBaseModel')}</th>
                <th>{t('tuneTunedModel')}</th>
              </tr>
            </thead>
            <tbody>
              <tr>
                <th>{t('tuneExact', { n: c.questions })}</th>
                <td data-testid="train-base-exact">{c.base_exact}</td>
                <td data-testid="train-tuned-exact">{c.tuned_exact}</td>
              </tr>
              <tr>
                <th>{t('tuneOverlap')}</th>
                <td data-testid="train-base-overlap">{pct(c.base_overlap)}</td>
                <td data-testid="train-tuned-overlap">{pct(c.tuned_overlap)}</td>
              </tr>
            </tbody>
          </table>
          <details>
            <summary class="small">{t('tuneAnswers', { n: c.answers.length })}</summary>
            <ul class="train-answers small">
              {c.answers.map((a, i) => (
                <li key={i} data-testid="train-answer">
                  <div>
                    <strong>{a.question}</strong>
                  </div>
                  <div class="muted">{t('tuneExpected', { text: a.expected })}</div>
                  <div>{t('tuneBaseSaid', { text: a.base })}</div>
                  <div>{t('tuneTunedSaid', { text: a.tuned })}</div>
                </li>
              ))}
            </ul>
          </details>
        </>
      )}
      {outcome.paraphrases.length > 0 && (
        <details data-testid="train-rewrites">
          <summary class="small">{t('tuneRewrites', { n: outcome.paraphrases.length })}</summary>
          <ul class="train-answers small">
            {outcome.paraphrases.map((p, i) => (
              <li key={i}>
                {p.text} <span class="muted">← {p.of}</span>
              </li>
            ))}
          </ul>
        </details>
      )}
      {outcome.comparison_error && (
        <p class="muted small">{t('tuneNoComparison', { reason: outcome.comparison_error })}</p>
      )}
    </div>
  );
}
