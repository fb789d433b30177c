// The stored conversations of the chosen knowledge base.

import { useCallback, useEffect, useState } from 'preact/hooks';
import type { Api } from '../api';
import type { ConversationSummary } from '../api/types';
import type { ToastStore } from './toasts';

export function useConversations(api: Api, kb: string, ready: boolean, toasts: ToastStore) {
  const [list, setList] = useState<ConversationSummary[]>([]);

  const refresh = useCallback(() => {
    api.chat.conversations().then(
      (found) => setList(Array.isArray(found) ? [...found].sort((a, b) => b.updated_at - a.updated_at) : []),
      (e: unknown) => toasts.error(e),
    );
  }, [api, toasts]);

  useEffect(() => {
    if (ready) refresh();
  }, [ready, kb, refresh]);

  return { conversations: list, refresh };
}
