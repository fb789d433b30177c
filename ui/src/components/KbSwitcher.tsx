// Chooses the knowledge base every call addresses, and creates new ones.

import { useState } from 'preact/hooks';
import type { KbList } from '../api/types';
import { useServices } from '../state/context';

const NEW = '\u0000new';
const VALID_NAME = /^[A-Za-z0-9_-]{1,64}$/;

interface Props {
  kb: string;
  kbs: KbList['kbs'];
  onSelect: (name: string) => void;
  /** Resolves true once created; reports its own errors and never rejects. */
  onCreate: (name: string) => Promise<boolean>;
}

export function KbSwitcher({ kb, kbs, onSelect, onCreate }: Props) {
  const { t } = useServices();
  const [creating, setCreating] = useState(false);
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const valid = VALID_NAME.test(name);
  // The chosen kb is listed even before the server's list arrives (or if it lacks it).
  const names = kbs.some((k) => k.name === kb) || !kb ? kbs : [{ name: kb, documents: 0 }, ...kbs];

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!valid || busy) return;
    setBusy(true);
    const created = await onCreate(name);
    setBusy(false);
    if (created) {
      setCreating(false);
      setName('');
    }
  };

  return (
    <div class="kb-switcher">
      <label class="sr-only" for="kb-select">
        {t('kbLabel')}
      </label>
      <select
        id="kb-select"
        data-testid="kb-switcher"
        value={kb}
        title={t('kbLabel')}
        onChange={(e) => {
          const value = e.currentTarget.value;
          if (value === NEW) {
            setCreating(true);
            e.currentTarget.value = kb;
          } else {
            onSelect(value);
          }
        }}
      >
        {names.map((k) => (
          <option key={k.name} value={k.name}>
            {k.name} ({k.documents})
          </option>
        ))}
        <option value={NEW}>{t('kbNew')}</option>
      </select>
      {creating && (
        <form class="kb-create" onSubmit={submit}>
          <input
            autoFocus
            value={name}
            placeholder={t('kbNamePlaceholder')}
            maxLength={64}
            aria-invalid={name !== '' && !valid}
            onInput={(e) => setName(e.currentTarget.value)}
            onKeyDown={(e) => e.key === 'Escape' && setCreating(false)}
          />
          <button type="submit" disabled={!valid || busy}>
            {t('kbCreate')}
          </button>
          <button type="button" onClick={() => setCreating(false)}>
            {t('cancel')}
          </button>
          {name !== '' && !valid && <span class="field-error">{t('kbNameInvalid')}</span>}
        </form>
      )}
    </div>
  );
}
