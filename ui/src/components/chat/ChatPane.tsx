// The middle pane: conversations, messages and the composer, driven by a ChatSession.

import { useCallback, useEffect, useRef } from 'preact/hooks';
import type { ConversationSummary, DocumentInfo, Source } from '../../api/types';
import { useSubscription } from '../../lib/useSubscription';
import type { ChatSession } from '../../state/chatSession';
import { useServices } from '../../state/context';
import { AssistantMessageView } from './AssistantMessageView';
import { Composer } from './Composer';
import { ConversationBar } from './ConversationBar';

interface Props {
  session: ChatSession;
  conversations: readonly ConversationSummary[];
  onOpenConversation: (id: string) => void;
  onDeleteConversation: (id: string) => void;
  onOpenSource: (source: Source) => void;
  /** The documents questions are kept to (empty: all), with a way to drop one or all. */
  scope: readonly DocumentInfo[];
  onUnscope: (doc: DocumentInfo | null) => void;
  /** Folders questions are kept to, with a way to drop one. */
  scopeFolders: readonly string[];
  onUnscopeFolder: (path: string) => void;
}

export function ChatPane({
  session,
  conversations,
  onOpenConversation,
  onDeleteConversation,
  onOpenSource,
  scope,
  onUnscope,
  scopeFolders,
  onUnscopeFolder,
}: Props) {
  const { t } = useServices();
  const subscribe = useCallback((fn: () => void) => session.subscribe(fn), [session]);
  const messages = useSubscription(subscribe, () => session.messages());
  const streaming = session.streaming;
  const listRef = useRef<HTMLDivElement>(null);
  const composerRef = useRef<HTMLTextAreaElement>(null);

  // Follow the answer as it grows, unless the reader scrolled up to read something earlier.
  useEffect(() => {
    const el = listRef.current;
    if (!el) return;
    const nearBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 120;
    if (nearBottom) el.scrollTop = el.scrollHeight;
  }, [messages]);

  return (
    <main class="chat-pane" aria-label={t('chat')}>
      <ConversationBar
        conversations={conversations}
        current={session.conversationId}
        onNew={() => {
          session.reset();
          composerRef.current?.focus();
        }}
        onOpen={onOpenConversation}
        onDelete={onDeleteConversation}
      />
      <div class="messages" ref={listRef}>
        {messages.length === 0 && <p class="muted chat-empty">{t('emptyChat')}</p>}
        {messages.map((m) =>
          m.role === 'user' ? (
            <article key={m.id} class="message message-user" data-testid="message-user">
              {m.text}
            </article>
          ) : (
            <AssistantMessageView key={m.id} message={m} onOpenSource={onOpenSource} />
          ),
        )}
      </div>
      {(scope.length > 0 || scopeFolders.length > 0) && (
        <div class="scope-bar" data-testid="scope-bar">
          <span class="small">{t('askingOnly')}</span>
          {scope.map((doc) => (
            <span key={doc.id} class="scope-chip" data-testid="scope-chip">
              {doc.title || doc.path}
              <button type="button" class="icon-button" aria-label={t('unscope', { title: doc.title })} onClick={() => onUnscope(doc)}>
                ×
              </button>
            </span>
          ))}
          {scopeFolders.map((path) => (
            <span key={path} class="scope-chip" data-testid="scope-folder" title={path}>
              📁 {path.split(/[\\/]/).filter(Boolean).pop() ?? path}
              <button type="button" class="icon-button" aria-label={t('unscope', { title: path })} onClick={() => onUnscopeFolder(path)}>
                ×
              </button>
            </span>
          ))}
          <button type="button" class="link-button small" data-testid="scope-clear" onClick={() => onUnscope(null)}>
            {t('askAll')}
          </button>
        </div>
      )}
      <Composer
        streaming={streaming}
        inputRef={composerRef}
        onSend={(q) => session.ask(q)}
        onStop={() => session.stop()}
      />
    </main>
  );
}
