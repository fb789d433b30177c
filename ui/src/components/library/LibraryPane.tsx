// The left pane: add documents, find them, watch them being indexed, and manage the index.

import type { RefObject } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import type { DocumentInfo, OcrChoice, SearchHit } from '../../api/types';
import type { PickedFile } from '../../lib/files';
import type { UploadQueue } from '../../lib/uploadQueue';
import { useServices } from '../../state/context';
import { DocList } from './DocList';
import { EmptyState } from './EmptyState';
import { FindBox } from './FindBox';
import { Pickers } from './Pickers';
import { UploadPanel } from './UploadPanel';
import { WatchedFolders } from './WatchedFolders';

interface Props {
  docs: readonly DocumentInfo[];
  docsLoaded: boolean;
  queue: UploadQueue;
  uploading: boolean;
  findRef: RefObject<HTMLInputElement | null>;
  onFiles: (files: PickedFile[]) => void;
  onSample: () => void;
  onOpenDoc: (doc: DocumentInfo) => void;
  onOpenHit: (hit: SearchHit) => void;
  onRemove: (doc: DocumentInfo) => void;
  onReindex: (doc: DocumentInfo, ocr?: OcrChoice) => void;
  scopeIds: ReadonlySet<string>;
  onToggleScope: (doc: DocumentInfo) => void;
  onSummarize: (doc: DocumentInfo) => void;
  /** The knowledge base shown. */
  kb: string | undefined;
  /** Every knowledge base's name (passages can be searched across them). */
  kbNames?: string[];
  /** The documents changed behind the list's back (a watched folder was synced). */
  onIndexChanged: () => void;
  /** Keep questions to the documents of this folder. */
  onAskFolder: (path: string) => void;
}

export function LibraryPane(props: Props) {
  const { t } = useServices();
  const [query, setQuery] = useState('');
  const filtered = useMemo(() => {
    const q = query.trim().toLowerCase();
    if (!q) return props.docs;
    return props.docs.filter((d) => d.title.toLowerCase().includes(q) || d.path.toLowerCase().includes(q));
  }, [props.docs, query]);

  const empty = props.docsLoaded && props.docs.length === 0;
  return (
    <aside class="library-pane" aria-label={t('library')}>
      <div class="pane-header">
        <h2>{t('library')}</h2>
        <Pickers onFiles={props.onFiles} />
      </div>
      {!empty && (
        <FindBox
          query={query}
          onQuery={setQuery}
          onOpenHit={props.onOpenHit}
          inputRef={props.findRef}
          kbNames={props.kbNames}
        />
      )}
      <UploadPanel queue={props.queue} />
      <WatchedFolders kb={props.kb} onChanged={props.onIndexChanged} onAsk={props.onAskFolder} />
      {empty ? (
        <EmptyState onSample={props.onSample} busy={props.uploading} />
      ) : (
        <>
          <div class="muted small doc-count">{t('docCount', { n: props.docs.length })}</div>
          {filtered.length === 0 && query ? (
            <p class="muted">{t('noMatches')}</p>
          ) : (
            <DocList
              docs={filtered}
              scopeIds={props.scopeIds}
              onOpen={props.onOpenDoc}
              onRemove={props.onRemove}
              onReindex={props.onReindex}
              onToggleScope={props.onToggleScope}
              onSummarize={props.onSummarize}
            />
          )}
        </>
      )}
    </aside>
  );
}
