// A Transport the component tests drive by hand: canned replies per command, and streams whose
// events the test pushes. (The real transports have their own tests against fake fetch / IPC.)

import { ABORTED, ApiError } from '../src/api/errors';
import { StreamSettler } from '../src/api/settle';
import type { Call, StreamEvent, StreamHandle, Transport } from '../src/api/transport';

export interface FakeStream {
  call: Call;
  stopped: boolean;
  emit(event: string, data: unknown): void;
}

export class FakeTransport implements Transport {
  /** Which real transport it stands in for (the desktop app's is 'tauri'). */
  kind: 'http' | 'tauri' = 'http';
  readonly calls: Call[] = [];
  readonly streams: FakeStream[] = [];
  replies: Record<string, unknown | ((call: Call) => unknown)> = {
    kbs_list: { current: 'default', kbs: [{ name: 'default', documents: 0 }] },
    documents_list: [],
    folders_list: [],
    health: { status: 'ok', documents: 0, encoder: 'bge-small', model: null, kb: 'default', version: '0.1.0' },
    conversations_list: [],
    setup_status: { ready: true, models: [], models_dir: null },
  };

  async request<T>(call: Call): Promise<T> {
    this.calls.push(call);
    const reply = this.replies[call.command];
    if (reply instanceof ApiError) throw reply;
    return (typeof reply === 'function' ? (reply as (c: Call) => unknown)(call) : reply) as T;
  }

  async bytes(call: Call): Promise<ArrayBuffer> {
    this.calls.push(call);
    return new ArrayBuffer(0);
  }

  stream(call: Call, onEvent: (e: StreamEvent) => void): StreamHandle<unknown> {
    this.calls.push(call);
    const settler = new StreamSettler(onEvent);
    const fake: FakeStream = {
      call,
      stopped: false,
      emit: (event, data) => settler.deliver({ event, data }),
    };
    this.streams.push(fake);
    return {
      done: settler.done,
      stop: () => {
        fake.stopped = true;
        settler.reject(new ApiError(ABORTED, 'Stopped'));
      },
    };
  }

  last(command: string): FakeStream {
    const found = [...this.streams].reverse().find((s) => s.call.command === command);
    if (!found) throw new Error(`no ${command} stream`);
    return found;
  }
}
