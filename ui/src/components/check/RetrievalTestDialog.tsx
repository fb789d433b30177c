// "Retrieval test": type a question and see why each passage was (or was not) found: its dense and
// keyword scores and ranks, the fused score the order follows, and which passages an answer would
// give the language model. The same numbers as `doctalk search --explain`.

import { useState } from 'preact/hooks';
import { toApiError } from '../../api/errors';
import type { ComponentScore, Explanation, SearchHit } from '../../api/types';
import { sourceLocation } from '../../lib/format';
import { useServices } from '../../state/context';
import { Modal } from '../Modal';

interface Props {
  kb: string;
  onClose: () => void;
}

const HITS = 8;

function component(c: ComponentScore | null | undefined, digits: number): string {
  return c ? `${c.score.toFixed(digits)} (#${c.rank})` : '–';
}

export function RetrievalTestDialog({ kb, onClose }: Props) {
  const { api, t } = useServices();
  const [question, setQuestion] = useState('');
  const [result, setResult] = useState<Explanation | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const run = () => {
    const q = question.trim();
    if (!q || busy) return;
    setBusy(true);
    setProblem(null);
    api.chat
      .explain(q, HITS)
      .then(setResult, (e: unknown) => setProblem(t('explainFailed', { message: toApiError(e).message })))
      .finally(() => setBusy(false));
  };

  const why = (hit: SearchHit, e: Explanation) => {
    if (hit.faq_match != null) return t('explainFaqMatch');
    if (hit.identifier_match) return t('explainIdentifiers', { ids: e.identifiers.join(', ') });
    return '';
  };

  const score = (v: number | null) => (v == null ? '–' : v.toFixed(3));

  return (
    <Modal kind="retrieval-test" label={t('explainTitle')} testid="explain-dialog" onClose={onClose}>
      <h3>
        {t('explainTitle')} <span class="muted small">({kb})</span>
      </h3>
      <p class="small">{t('explainIntro')}</p>
      <form
        class="explain-form"
        onSubmit={(e) => {
          e.preventDefault();
          run();
        }}
      >
        <input
          type="search"
          data-testid="explain-question"
          value={question}
          placeholder={t('explainPlaceholder')}
          aria-label={t('explainPlaceholder')}
          onInput={(e) => setQuestion(e.currentTarget.value)}
        />
        <button type="submit" class="primary" data-testid="explain-run" disabled={busy || !question.trim()}>
          {busy ? t('searching') : t('explainRun')}
        </button>
      </form>
      {problem && (
        <p class="error small" role="alert" data-testid="explain-problem">
          {problem}
        </p>
      )}
      {result && result.hits.length === 0 && <p class="muted">{t('explainNoHits')}</p>}
      {result && result.hits.length > 0 && (
        <>
          <table class="explain-table" data-testid="explain-table">
            <thead>
              <tr>
                <th>{t('explainRank')}</th>
                <th>{t('explainDense')}</th>
                <th>{t('explainBm25')}</th>
                <th>{t('explainFused')}</th>
                <th>{t('explainOffered')}</th>
                <th>{t('explainPassage')}</th>
              </tr>
            </thead>
            <tbody>
              {result.hits.map((hit) => (
                <tr key={hit.chunk_id} data-testid="explain-hit" class={hit.rank <= result.offered ? 'offered' : ''}>
                  <td>{hit.rank}</td>
                  <td>{component(hit.dense, 3)}</td>
                  <td>{component(hit.bm25, 2)}</td>
                  <td>{hit.fused_score == null ? '–' : hit.fused_score.toFixed(4)}</td>
                  <td>{hit.rank <= result.offered ? t('yes') : t('no')}</td>
                  <td>
                    <strong>{hit.title}</strong>{' '}
                    <span class="muted small">{sourceLocation({ kind: hit.kind, page: hit.page, row: null }, t)}</span>
                    {why(hit, result) && <span class="explain-why small"> · {why(hit, result)}</span>}
                    <div class="find-snippet small">{hit.text.slice(0, 160)}</div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <p class="small" data-testid="explain-decision">
            {result.grounded
              ? t('explainGrounded', {
                  n: result.offered,
                  best: score(result.evidence.top_dense_score),
                  threshold: score(result.evidence.threshold),
                })
              : t('explainNotGrounded', {
                  best: score(result.evidence.top_dense_score),
                  threshold: score(result.evidence.threshold),
                })}
          </p>
          <p class="muted small">
            {t('explainFormula', {
              w: result.bm25_weight,
              bonus: result.identifiers.length
                ? t('explainBonus', { b: result.identifier_bonus, ids: result.identifiers.join(', ') })
                : '',
            })}
          </p>
        </>
      )}
      <div class="modal-actions">
        <button type="button" onClick={onClose}>
          {t('close')}
        </button>
      </div>
    </Modal>
  );
}
