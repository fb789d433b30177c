// Stored conversations: start a new one, switch, delete.

import { useState } from 'preact/hooks';
import type { ConversationSummary } from '../../api/types';
import { useServices } from '../../state/context';

interface Props {
  conversations: readonly ConversationSummary[];
  current: string | null;
  onNew: () => void;
  onOpen: (id: string) => void;
  onDelete: (id: string) => void;
}

export function ConversationBar({ conversations, current, onNew, onOpen, onDelete }: Props) {
  const { t, lang } = useServices();
  const [open, setOpen] = useState(false);
  return (
    <div class="conversation-bar">
      <button type="button" data-testid="new-conversation" onClick={onNew}>
        + {t('newChat')}
      </button>
      <button type="button" aria-expanded={open} data-testid="conversations-toggle" onClick={() => setOpen(!open)}>
        {t('conversations')} ({conversations.length}) {open ? '▴' : '▾'}
      </button>
      {open && (
        <ul class="conversation-list" data-testid="conversation-list">
          {conversations.length === 0 && <li class="muted small">{t('noConversations')}</li>}
          {conversations.map((c) => (
            <li key={c.id} class={c.id === current ? 'current' : ''} data-testid="conversation-item">
              <button
                type="button"
                class="link-button conversation-title"
                onClick={() => {
                  onOpen(c.id);
                  setOpen(false);
                }}
              >
                {c.title || c.id}
              </button>
              <span class="muted small">
                {new Date(c.updated_at * 1000).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en')}
              </span>
              <button
                type="button"
                class="icon-button"
                aria-label={t('deleteConversation')}
                title={t('deleteConversation')}
                onClick={() => onDelete(c.id)}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
