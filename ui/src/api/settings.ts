// Settings, the model catalogue and model downloads.

import { isObject, typedStream } from './client';
import type { StreamEvent, StreamHandle, Transport } from './transport';
import type { DownloadDone, DownloadProgress, Settings, SettingsPatch, SetupStatus, VoiceAdded } from './types';

export interface DownloadEvent {
  event: 'progress';
  data: DownloadProgress;
}

export interface VoiceProgressEvent {
  event: 'progress';
  /** `reading` the recording, `measuring` it for the neural converter (seconds). */
  stage: string;
}

export function narrowVoiceProgress(e: StreamEvent): VoiceProgressEvent | null {
  if (e.event !== 'progress' || !isObject(e.data) || typeof e.data.stage !== 'string') return null;
  return { event: 'progress', stage: e.data.stage };
}

export function narrowDownload(e: StreamEvent): DownloadEvent | null {
  if (e.event !== 'progress' || !isObject(e.data) || typeof e.data.downloaded !== 'number') return null;
  const total = typeof e.data.total === 'number' ? e.data.total : null;
  return { event: 'progress', data: { downloaded: e.data.downloaded, total } };
}

/** Settings are the application's, not a knowledge base's, so no call here is kb-scoped. */
export class SettingsClient {
  readonly #t: Transport;

  constructor(transport: Transport) {
    this.#t = transport;
  }

  get(): Promise<Settings> {
    return this.#t.request({ method: 'GET', path: '/api/settings', command: 'settings_get' });
  }

  /** First run: the models the app needs before it can start, and whether they are here. */
  setupStatus(): Promise<SetupStatus> {
    return this.#t.request({ method: 'GET', path: '/api/setup', command: 'setup_status' });
  }

  set(patch: SettingsPatch): Promise<Settings> {
    return this.#t.request({
      method: 'PUT',
      path: '/api/settings',
      body: patch,
      command: 'settings_set',
      args: { settings: patch },
    });
  }

  /** Text read aloud in the chosen voice (the saved one when none is given): WAV bytes. */
  speak(text: string, voice?: string): Promise<ArrayBuffer> {
    const body = voice ? { text, voice } : { text };
    return this.#t.bytes({ method: 'POST', path: '/api/speak', body, command: 'speak', args: body });
  }

  /** A cloned voice from a recording (WAV bytes), with the speaker's consent note. */
  addVoice(
    sample: Blob,
    name: string,
    consent: string,
    onEvent: (e: VoiceProgressEvent) => void,
  ): StreamHandle<VoiceAdded> {
    return typedStream(
      this.#t,
      {
        method: 'POST',
        path: '/api/voices',
        query: { name, consent },
        raw: sample,
        command: 'voice_add',
        args: { name, consent },
      },
      onEvent,
      narrowVoiceProgress,
    );
  }

  removeVoice(name: string): Promise<{ removed: string }> {
    return this.#t.request({
      method: 'DELETE',
      path: `/api/voices/${encodeURIComponent(name)}`,
      command: 'voice_remove',
      args: { name },
    });
  }

  download(id: string, onEvent: (e: DownloadEvent) => void): StreamHandle<DownloadDone> {
    return typedStream(
      this.#t,
      {
        method: 'POST',
        path: `/api/models/${encodeURIComponent(id)}/download`,
        command: 'model_download',
        args: { id },
      },
      onEvent,
      narrowDownload,
    );
  }
}
