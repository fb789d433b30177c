// The top bar: name, knowledge base, model status, language and settings.

import type { Health, KbList } from '../api/types';
import { useServices } from '../state/context';
import { KbSwitcher } from './KbSwitcher';

interface Props {
  kb: string;
  kbs: KbList['kbs'];
  health: Health | null;
  onSelectKb: (name: string) => void;
  onCreateKb: (name: string) => Promise<boolean>;
  onImportedKb: (name: string) => void;
  onOpenSettings: () => void;
  onCheckAnswers: () => void;
  /** Absent: the caller may not fine-tune (no button). */
  onTrain?: () => void;
  onRetrievalTest: () => void;
}

export function Header({
  kb,
  kbs,
  health,
  onSelectKb,
  onCreateKb,
  onImportedKb,
  onOpenSettings,
  onCheckAnswers,
  onTrain,
  onRetrievalTest,
}: Props) {
  const { t, lang, setLangPref } = useServices();
  return (
    <header class="app-header">
      <div class="brand">
        <span class="brand-name">{t('appName')}</span>
        <span class="brand-tagline">{t('tagline')}</span>
      </div>
      <KbSwitcher kb={kb} kbs={kbs} onSelect={onSelectKb} onCreate={onCreateKb} onImported={onImportedKb} />
      <span class="model-status" title={health?.encoder}>
        {health ? (health.model ? t('modelStatus', { model: health.model }) : t('noModel')) : ''}
      </span>
      <div class="header-actions">
        <button
          type="button"
          data-testid="lang-toggle"
          title={t('langToggleTitle')}
          onClick={() => setLangPref(lang === 'zh' ? 'en' : 'zh')}
        >
          {t('langToggle')}
        </button>
        <button type="button" data-testid="explain-button" onClick={onRetrievalTest}>
          {t('explainButton')}
        </button>
        <button type="button" data-testid="check-button" onClick={onCheckAnswers}>
          {t('checkAnswers')}
        </button>
        {onTrain && (
          <button type="button" data-testid="train-button" title={t('tuneTitle')} onClick={onTrain}>
            {t('tuneButton')}
          </button>
        )}
        <button type="button" data-testid="settings-button" onClick={onOpenSettings}>
          {t('settings')}
        </button>
      </div>
    </header>
  );
}
