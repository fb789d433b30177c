// The report of "Check answers": one row of figures per mode, then each question with its answers.

import type { CheckModeReport, CheckReport, CheckTotals } from '../../api/types';
import type { Key } from '../../i18n';
import { percent } from '../../lib/checklist';
import { useServices } from '../../state/context';

const ROWS: { key: Key; value: (t: CheckTotals) => string }[] = [
  { key: 'checkFactCitation', value: (t) => percent(t.fact_and_citation_rate) },
  { key: 'checkFact', value: (t) => percent(t.fact_rate) },
  { key: 'checkCitation', value: (t) => percent(t.citation_rate) },
  { key: 'checkRefusals', value: (t) => percent(t.refusal_rate) },
  { key: 'checkFalseRefusals', value: (t) => percent(t.false_refusal_rate) },
  { key: 'checkWrongFigures', value: (t) => percent(t.wrong_figure_rate) },
  { key: 'checkCorrected', value: (t) => String(t.answers_with_unverified) },
  {
    key: 'checkFirstToken',
    value: (t) => (t.first_token_ms_p50 === null ? '–' : `${(t.first_token_ms_p50 / 1000).toFixed(1)} s`),
  },
];

function modeLabel(m: CheckModeReport, t: (k: Key) => string): string {
  const name = m.mode === 'llm' ? t('checkMode_llm') : t('checkMode_extractive');
  return m.model ? `${name} (${m.model})` : name;
}

export function CheckReportView({ report }: { report: CheckReport }) {
  const { t } = useServices();
  return (
    <div class="check-report" data-testid="check-report">
      {report.stopped && <p class="muted small">{t('checkStopped')}</p>}
      {report.without_llm && <p class="muted small">{t('checkWithoutLlm', { reason: report.without_llm })}</p>}
      <table class="check-totals">
        <thead>
          <tr>
            <th />
            {report.modes.map((m) => (
              <th key={m.mode}>{modeLabel(m, t)}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {ROWS.map((row) => (
            <tr key={row.key}>
              <th scope="row">{t(row.key)}</th>
              {report.modes.map((m) => (
                <td key={m.mode} data-testid={`check-${m.mode}-${row.key}`}>
                  {row.value(m.totals)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <ol class="check-questions">
        {report.questions.map((q, i) => (
          <li key={i} data-testid="check-question">
            <div class="check-q">{q.q}</div>
            <div class="muted small">
              {q.unanswerable ? t('checkExpectedRefusal') : t('checkExpected', { facts: q.expect_any.join(' / ') })}
            </div>
            {q.answers.map((a) => (
              <details key={a.mode} class={a.right ? 'right' : 'wrong'}>
                <summary>
                  <span class={`badge ${a.right ? 'ok' : 'bad'}`}>{a.right ? t('checkRight') : t('checkWrong')}</span>{' '}
                  {a.mode === 'llm' ? t('checkMode_llm') : t('checkMode_extractive')}
                </summary>
                <p class="check-answer">{a.answer}</p>
                {a.cited.length > 0 && (
                  <p class="muted small">
                    {a.cited.map((c) => `[${c.n}] ${c.path.split(/[\\/]/).pop()}${c.page ? ` p.${c.page}` : ''}`).join('  ')}
                  </p>
                )}
              </details>
            ))}
          </li>
        ))}
      </ol>
    </div>
  );
}
