// Chooses the knowledge base every call addresses, and creates new ones.

import { useState } from 'preact/hooks';
import type { KbList } from '../api/types';
import { useServices } from '../state/context';

const NEW = '\u0000new';
const EXPORT = '\u0000export';
const EXPORT_ALL = '\u0000export-all';
const IMPORT = '\u0000import';
const VALID_NAME = /^[A-Za-z0-9_-]{1,64}$/;

interface Props {
  kb: string;
  kbs: KbList['kbs'];
  onSelect: (name: string) => void;
  /** Resolves true once created; reports its own errors and never rejects. */
  onCreate: (name: string) => Promise<boolean>;
  /** A knowledge base was restored from an archive under this name. */
  onImported: (name: string) => void;
}

/** A knowledge-base name from an archive's file name ("work (2).dtkb" → "work-2"). */
export function nameFromFile(fileName: string): string {
  return fileName
    .replace(/\.dtkb$/i, '')
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64);
}

export function KbSwitcher({ kb, kbs, onSelect, onCreate, onImported }: Props) {
  const { t, api, toasts } = useServices();
  const [creating, setCreating] = useState(false);
  const [importing, setImporting] = useState<File | null>(null);
  const [importName, setImportName] = useState('');
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

  const exportKb = (conversations: boolean) => {
    api.library.exportKb(kb, conversations).then((bytes) => {
      const url = URL.createObjectURL(new Blob([bytes], { type: 'application/gzip' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `${kb}.dtkb`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      toasts.info(t('kbExported', { name: kb }));
    }, (e: unknown) => toasts.error(e));
  };

  const submitImport = (e: Event) => {
    e.preventDefault();
    if (!importing || !VALID_NAME.test(importName) || busy) return;
    setBusy(true);
    api.library.importKb(importing, importName).then(
      (r) => {
        setBusy(false);
        setImporting(null);
        toasts.info(t('kbImported', { name: r.kb, n: r.documents }));
        onImported(r.kb);
      },
      (err: unknown) => {
        setBusy(false);
        toasts.error(err);
      },
    );
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
          } else if (value === EXPORT || value === EXPORT_ALL) {
            e.currentTarget.value = kb;
            exportKb(value === EXPORT_ALL);
          } else if (value === IMPORT) {
            e.currentTarget.value = kb;
            document.getElementById('kb-import-file')?.click();
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
        <option value={EXPORT}>{t('kbExport')}</option>
        <option value={EXPORT_ALL}>{t('kbExportAll')}</option>
        <option value={IMPORT}>{t('kbImport')}</option>
      </select>
      <input
        id="kb-import-file"
        type="file"
        accept=".dtkb"
        class="visually-hidden"
        data-testid="kb-import-file"
        onChange={(e) => {
          const file = e.currentTarget.files?.[0];
          e.currentTarget.value = '';
          if (file) {
            setImporting(file);
            setImportName(nameFromFile(file.name) || 'imported');
          }
        }}
      />
      {importing && (
        <form class="kb-create" onSubmit={submitImport}>
          <span class="small">{t('kbImportAs', { file: importing.name })}</span>
          <input
            value={importName}
            data-testid="kb-import-name"
            maxLength={64}
            aria-invalid={!VALID_NAME.test(importName)}
            onInput={(e) => setImportName(e.currentTarget.value)}
          />
          <button type="submit" data-testid="kb-import-start" disabled={!VALID_NAME.test(importName) || busy}>
            {t('kbImportStart')}
          </button>
          <button type="button" onClick={() => setImporting(null)}>
            {t('cancel')}
          </button>
        </form>
      )}
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
