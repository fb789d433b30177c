// The page: header, library, chat and source panel, wired to one transport. State lives in small
// hooks and stores (kb choice, documents, conversations, uploads, chat session); these components
// only connect them. On a first run without the models the app needs, the setup screen comes first.

import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { RefObject } from 'preact';
import { createApi } from '../api';
import type { Transport } from '../api/transport';
import type { DocumentInfo, LanguagePref, OcrChoice, SearchHit, Source } from '../api/types';
import { loadLangPref, resolveLang, saveLangPref, translate, type Key, type Vars } from '../i18n';
import { selectForUpload, isHiddenPath, type PickedFile } from '../lib/files';
import { UploadQueue } from '../lib/uploadQueue';
import { baseName } from '../lib/uploads';
import { ChatSession } from '../state/chatSession';
import { ServicesContext, useServices, type Services } from '../state/context';
import { ToastStore } from '../state/toasts';
import { useConversations } from '../state/useConversations';
import { useDocuments } from '../state/useDocuments';
import { useKbs } from '../state/useKbs';
import { useSetup } from '../state/useSetup';
import { fromDocument, fromHit, fromSource, type ViewerTarget } from '../state/viewer';
import { ChatPane } from './chat/ChatPane';
import { Header } from './Header';
import { DropZone } from './library/DropZone';
import { LibraryPane } from './library/LibraryPane';
import { CheckAnswersDialog } from './check/CheckAnswersDialog';
import { TrainDialog } from './tune/TrainDialog';
import { RetrievalTestDialog } from './check/RetrievalTestDialog';
import { SettingsDialog } from './settings/SettingsDialog';
import { SetupScreen } from './setup/SetupScreen';
import { Toasts } from './Toasts';
import { SummaryDialog } from './summary/SummaryDialog';
import { SourcePanel } from './viewer/SourcePanel';

/** Files uploaded at once: enough to keep the server busy, few enough to keep memory flat. */
const UPLOAD_CONCURRENCY = 3;

interface Props {
  transport: Transport;
  toasts?: ToastStore;
}

export function App({ transport, toasts: givenToasts }: Props) {
  const toasts = useMemo(() => givenToasts ?? new ToastStore(), [givenToasts]);
  const kbRef = useRef<string | undefined>(undefined);
  const api = useMemo(() => createApi(transport, () => kbRef.current), [transport]);

  // ---- language ----
  const [langPref, setLangPrefState] = useState<LanguagePref>(() => loadLangPref(globalThis.localStorage));
  const lang = resolveLang(langPref, globalThis.navigator?.language);
  const setLangPref = useCallback((pref: LanguagePref) => {
    saveLangPref(globalThis.localStorage, pref);
    setLangPrefState(pref);
  }, []);
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  const t = useCallback((key: Key, vars?: Vars) => translate(lang, key, vars), [lang]);

  // ---- first run: the models the app needs ----
  const setup = useSetup(api);

  // ---- settings the whole window follows (read at start and whenever the dialog closes) ----
  const [settingsOpen, setSettingsOpen] = useState(false);
  const [speakAnswers, setSpeakAnswers] = useState(false);
  useEffect(() => {
    if (settingsOpen || setup.phase !== 'ready') return;
    api.settings.get().then(
      (s) => setSpeakAnswers(Boolean(s?.voice?.enabled)),
      () => undefined, // the settings dialog reports what is wrong with them
    );
  }, [api, settingsOpen, setup.phase]);

  const services: Services = useMemo(
    () => ({ api, t, lang, langPref, setLangPref, toasts, speakAnswers }),
    [api, t, lang, langPref, setLangPref, toasts, speakAnswers],
  );

  return (
    <ServicesContext.Provider value={services}>
      {setup.phase === 'ready' ? (
        <Workspace kbRef={kbRef} onOpenSettings={() => setSettingsOpen(true)} />
      ) : setup.phase === 'needed' && setup.status ? (
        <SetupScreen status={setup.status} onRecheck={setup.recheck} onStart={setup.start} />
      ) : (
        <p class="muted setup-checking">{t('loading')}</p>
      )}
      {settingsOpen && <SettingsDialog onClose={() => setSettingsOpen(false)} />}
      <Toasts />
    </ServicesContext.Provider>
  );
}

interface WorkspaceProps {
  /** The knowledge base the API calls go to (read by the api's kb getter). */
  kbRef: RefObject<string | undefined>;
  onOpenSettings: () => void;
}

/** The app proper: header, library, chat and source panel. */
function Workspace({ kbRef, onOpenSettings }: WorkspaceProps) {
  const { api, t, toasts } = useServices();

  // ---- knowledge base, documents, conversations ----
  const kbs = useKbs(api, kbRef, toasts);
  const documents = useDocuments(api, kbs.kb, kbs.ready, toasts);
  const conversations = useConversations(api, kbs.kb, kbs.ready, toasts);
  const [checking, setChecking] = useState(false);
  const [training, setTraining] = useState(false);
  // Fine-tuning is the server owner's (admins'): on a team server others do not see "Train". An
  // older server without /api/me, and the desktop app, have no one else.
  const [mayTrain, setMayTrain] = useState(true);
  useEffect(() => {
    api.users.me().then(
      (me) => setMayTrain(!me || me.role === 'admin'),
      () => setMayTrain(true),
    );
  }, [api]);
  const [explaining, setExplaining] = useState(false);
  const [summarizing, setSummarizing] = useState<DocumentInfo | null>(null);
  // ---- the documents questions are kept to (empty: all); gone documents drop out ----
  const [scope, setScope] = useState<DocumentInfo[]>([]);
  const [scopeFolders, setScopeFolders] = useState<string[]>([]);
  const askFolder = useCallback((path: string) => setScopeFolders((f) => (f.includes(path) ? f : [...f, path])), []);
  const unscopeFolder = useCallback((path: string | null) => setScopeFolders((f) => (path ? f.filter((p) => p !== path) : [])), []);
  const scoped = useMemo(() => scope.filter((d) => documents.docs.some((x) => x.id === d.id)), [scope, documents.docs]);
  const scopeIds = useMemo(() => new Set(scoped.map((d) => d.id)), [scoped]);
  const toggleScope = useCallback(
    (doc: DocumentInfo) => setScope((s) => (s.some((d) => d.id === doc.id) ? s.filter((d) => d.id !== doc.id) : [...s, doc])),
    [],
  );
  const unscope = useCallback(
    (doc: DocumentInfo | null) => setScope((s) => (doc ? s.filter((d) => d.id !== doc.id) : [])),
    [],
  );

  // Stores outlive renders; callbacks reach the latest hook values through this ref.
  const latest = useRef({ documents, conversations, kbs });
  latest.current = { documents, conversations, kbs };

  // ---- uploads ----
  const queue = useMemo(
    () =>
      new UploadQueue({
        concurrency: UPLOAD_CONCURRENCY,
        onFinished: (row) => {
          if (row.status === 'indexed') latest.current.documents.refreshSoon();
        },
      }),
    [],
  );
  const [uploading, setUploading] = useState(false);
  useEffect(() => {
    let wasBusy = queue.busy;
    return queue.subscribeChange(() => {
      setUploading(queue.busy);
      // The header's document counts, once per batch rather than once per file.
      if (wasBusy && !queue.busy) latest.current.kbs.refresh();
      wasBusy = queue.busy;
    });
  }, [queue]);

  const addFiles = useCallback(
    (picked: PickedFile[]) => {
      const { send, skipped } = selectForUpload(picked);
      queue.addSkipped(skipped);
      queue.enqueueFiles(
        send.map((p) => ({
          name: p.file.name,
          path: p.path,
          size: p.file.size,
          start: (onEvent, password) => api.library.ingestFile(p.file, p.file.name, onEvent, password),
        })),
      );
    },
    [api, queue],
  );

  const addPaths = useCallback(
    (paths: string[]) => {
      const visible = paths.filter((p) => !isHiddenPath(baseName(p)));
      queue.addSkipped(paths.length - visible.length);
      if (visible.length === 0) return;
      queue.enqueueBatch({
        label: baseName(visible[0] as string),
        start: (onEvent) => api.library.ingestPaths(visible, onEvent),
        unlockPath: (path, password, onEvent) => api.library.ingestPaths([path], onEvent, password),
      });
    },
    [api, queue],
  );

  const installSample = useCallback(() => {
    queue.enqueueBatch({
      label: 'sample',
      start: (onEvent) => {
        const handle = api.library.installSample(onEvent);
        // The sample may add documents without an "indexed" row (unchanged on a re-install).
        handle.done.finally(() => {
          latest.current.documents.refresh();
          latest.current.kbs.refresh();
        }).catch(() => undefined);
        return handle;
      },
    });
  }, [api, queue]);

  const reindex = useCallback(
    (doc: DocumentInfo, ocr?: OcrChoice) =>
      queue.enqueueBatch({ label: doc.title || doc.path, start: (onEvent) => api.library.reindex(doc.id, onEvent, ocr) }),
    [api, queue],
  );

  // ---- viewer ----
  const [target, setTarget] = useState<ViewerTarget | null>(null);
  const openSource = useCallback((s: Source) => setTarget(fromSource(s)), []);
  const openDoc = useCallback((d: DocumentInfo) => setTarget(fromDocument(d)), []);

  const remove = useCallback(
    (doc: DocumentInfo) => {
      api.library.removeDocument(doc.id).then(
        () => {
          toasts.info(t('removed', { title: doc.title || doc.path }));
          setTarget((current) => (current?.docId === doc.id ? null : current));
          latest.current.documents.refresh();
        },
        (e: unknown) => toasts.error(e),
      );
    },
    [api, t, toasts],
  );

  // ---- chat ----
  const session = useMemo(
    () =>
      new ChatSession(
        api.chat,
        (e) => toasts.error(e),
        () => latest.current.conversations.refresh(),
      ),
    [api, toasts],
  );
  useEffect(() => session.setScope([...scopeIds], scopeFolders), [session, scopeIds, scopeFolders]);

  const openConversation = useCallback(
    (id: string) => {
      api.chat.conversation(id).then(
        (c) => session.load(c),
        (e: unknown) => toasts.error(e),
      );
    },
    [api, session, toasts],
  );

  const deleteConversation = useCallback(
    (id: string) => {
      api.chat.deleteConversation(id).then(
        () => {
          if (session.conversationId === id) session.reset();
          latest.current.conversations.refresh();
        },
        (e: unknown) => toasts.error(e),
      );
    },
    [api, session, toasts],
  );

  const selectKb = useCallback(
    (name: string) => {
      if (name === latest.current.kbs.kb) return;
      // Conversations, sources and the viewer all belong to the kb being left.
      session.reset();
      setTarget(null);
      setScope([]);
      setScopeFolders([]);
      latest.current.kbs.select(name);
    },
    [session],
  );

  // A hit from a search across knowledge bases opens in its own: switch there first.
  const openHit = useCallback(
    (h: SearchHit) => {
      if (h.kb && h.kb !== latest.current.kbs.kb) selectKb(h.kb);
      setTarget(fromHit(h));
    },
    [selectKb],
  );

  // ---- keyboard: Ctrl/Cmd+K finds documents ----
  const findRef = useRef<HTMLInputElement>(null);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        findRef.current?.focus();
        findRef.current?.select();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <DropZone onFiles={addFiles} onPaths={addPaths}>
      <div class={`app${target ? ' with-viewer' : ''}`}>
        <Header
          kb={kbs.kb}
          kbs={kbs.kbs}
          health={documents.health}
          onSelectKb={selectKb}
          onCreateKb={kbs.create}
          onImportedKb={(name) => {
            kbs.refresh();
            selectKb(name);
          }}
          onOpenSettings={onOpenSettings}
          onCheckAnswers={() => setChecking(true)}
          onTrain={mayTrain ? () => setTraining(true) : undefined}
          onRetrievalTest={() => setExplaining(true)}
        />
        <div class="workspace">
          <LibraryPane
            docs={documents.docs}
            docsLoaded={documents.loaded}
            queue={queue}
            uploading={uploading}
            findRef={findRef}
            onFiles={addFiles}
            onSample={installSample}
            onOpenDoc={openDoc}
            onOpenHit={openHit}
            onRemove={remove}
            onReindex={reindex}
            scopeIds={scopeIds}
            onToggleScope={toggleScope}
            onSummarize={setSummarizing}
            kb={kbs.kb}
            kbNames={kbs.kbs.map((k) => k.name)}
            onIndexChanged={documents.refreshSoon}
            onAskFolder={askFolder}
          />
          <ChatPane
            session={session}
            conversations={conversations.conversations}
            onOpenConversation={openConversation}
            onDeleteConversation={deleteConversation}
            onOpenSource={openSource}
            scope={scoped}
            onUnscope={(doc) => {
              unscope(doc);
              if (!doc) unscopeFolder(null);
            }}
            scopeFolders={scopeFolders}
            onUnscopeFolder={unscopeFolder}
          />
          {target && <SourcePanel target={target} docs={documents.docs} onClose={() => setTarget(null)} />}
        </div>
        {checking && <CheckAnswersDialog kb={kbs.kb} onClose={() => setChecking(false)} />}
        {training && <TrainDialog kb={kbs.kb} onClose={() => setTraining(false)} />}
        {explaining && <RetrievalTestDialog kb={kbs.kb} onClose={() => setExplaining(false)} />}
        {summarizing && (
          <SummaryDialog doc={summarizing} onOpenSource={openSource} onClose={() => setSummarizing(null)} />
        )}
      </div>
    </DropZone>
  );
}
