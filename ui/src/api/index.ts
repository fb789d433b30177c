// The API as the UI sees it: typed clients over one transport, all addressing the knowledge
// base that `kb()` names at the moment of each call.

import { ChatClient } from './chat';
import type { KbScope } from './client';
import { LibraryClient } from './library';
import { SettingsClient } from './settings';
import type { Transport } from './transport';
import { TuningClient } from './tuning';
import { UsersClient } from './users';

export interface Api {
  transport: Transport;
  library: LibraryClient;
  chat: ChatClient;
  settings: SettingsClient;
  tuning: TuningClient;
  users: UsersClient;
}

export function createApi(transport: Transport, kb: KbScope): Api {
  return {
    transport,
    library: new LibraryClient(transport, kb),
    chat: new ChatClient(transport, kb),
    settings: new SettingsClient(transport),
    tuning: new TuningClient(transport, kb),
    users: new UsersClient(transport),
  };
}

export { ApiError, isAborted, toApiError } from './errors';
export type { StreamHandle, Transport } from './transport';
export type * from './types';
