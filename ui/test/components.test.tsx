import { render } from 'preact';
import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createApi } from '../src/api';
import { App } from '../src/components/App';
import { Composer } from '../src/components/chat/Composer';
import { translate, type Key, type Vars } from '../src/i18n';
import type { Settings } from '../src/api/types';
import { MODEL_POLL_MS } from '../src/components/settings/SettingsDialog';
import { encodeWav } from '../src/lib/wav';
import { ServicesContext, type Services } from '../src/state/context';
import { ToastStore } from '../src/state/toasts';
import { FakeTransport } from './fakeTransport';
import { ApiError } from '../src/api/errors';
import type { Call } from '../src/api/transport';

let root: HTMLElement;

beforeEach(() => {
  localStorage.clear();
  root = document.createElement('div');
  document.body.appendChild(root);
});

afterEach(() => {
  render(null, root);
  root.remove();
});

const $ = (testid: string) => root.querySelector<HTMLElement>(`[data-testid="${testid}"]`);
const $$ = (testid: string) => Array.from(root.querySelectorAll<HTMLElement>(`[data-testid="${testid}"]`));

/** Lets promises settle and Preact flush its renders. */
async function settle() {
  await act(async () => {
    for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
  });
}

async function renderApp(transport: FakeTransport) {
  await act(async () => {
    render(<App transport={transport} toasts={new ToastStore(0)} />, root);
  });
  // The setup check first, then the workspace's own requests.
  await settle();
  await settle();
}

async function type(el: HTMLElement, text: string) {
  await act(async () => {
    (el as HTMLTextAreaElement).value = text;
    el.dispatchEvent(new Event('input', { bubbles: true }));
  });
}

async function key(el: HTMLElement, init: KeyboardEventInit) {
  await act(async () => {
    el.dispatchEvent(new KeyboardEvent('keydown', { bubbles: true, cancelable: true, ...init }));
  });
}

async function click(el: HTMLElement) {
  await act(async () => {
    el.click();
  });
  await settle();
}

describe('App', () => {
  it('shows the empty state with the sample button on first run, and installs the sample', async () => {
    const transport = new FakeTransport();
    await renderApp(transport);
    expect(root.textContent).toContain('Drop documents here');
    const button = $('sample-button');
    expect(button).not.toBeNull();
    await click(button!);
    const sample = transport.last('sample_install');
    await act(async () => {
      sample.emit('progress', { event: 'file_started', path: '/s/员工手册.pdf', index: 0, total: 1 });
    });
    await settle();
    const row = $('upload-row');
    expect(row?.dataset.name).toBe('员工手册.pdf');
    expect(row?.dataset.status).toBe('parse');
  });

  it('offers a multi-file picker and a folder picker', async () => {
    await renderApp(new FakeTransport());
    const files = $('file-input') as HTMLInputElement;
    const folder = $('folder-input') as HTMLInputElement;
    expect(files.type).toBe('file');
    expect(files.multiple).toBe(true);
    expect(folder.hasAttribute('webkitdirectory')).toBe(true);
  });

  it('asks for the password of a protected PDF under its row and sends it with one retry', async () => {
    const transport = new FakeTransport();
    await renderApp(transport);
    const input = $('file-input') as HTMLInputElement;
    const file = new File(['%PDF-1.7'], 'locked.pdf', { type: 'application/pdf' });
    Object.defineProperty(input, 'files', { value: [file], configurable: true });
    await act(async () => {
      input.dispatchEvent(new Event('change', { bubbles: true }));
      // The row list re-renders at most every 50 ms.
      await new Promise((r) => setTimeout(r, 80));
    });
    await settle();
    const first = transport.last('ingest_file');
    expect(first.call.secret).toBeUndefined();
    expect($('password-form')).toBeNull();
    await act(async () => {
      first.emit('done', {
        files: [
          {
            path: '/u/locked.pdf',
            status: 'failed',
            doc_id: null,
            pages: null,
            chunks: 0,
            diagnostics: [{ code: 'encrypted', message: 'the PDF is password-protected', page: null }],
          },
        ],
      });
    });
    await settle();
    const form = $('password-form');
    expect(form).not.toBeNull();
    const field = form!.querySelector('input') as HTMLInputElement;
    expect(field.type).toBe('password');
    await type(field, 'Pässwörd');
    await act(async () => {
      form!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
    });
    await settle();
    const retry = transport.last('ingest_file');
    expect(retry).not.toBe(first);
    expect(retry.call.secret).toEqual({ password: 'Pässwörd' });
    expect(retry.call.query).toEqual({ name: 'locked.pdf', kb: 'default' });
    expect($('upload-row')?.dataset.status).toBe('queued');
    expect($('password-form')).toBeNull();
  });

  it('follows the language preference on <html lang> and the toggle', async () => {
    localStorage.setItem('doctalk.lang', 'zh');
    await renderApp(new FakeTransport());
    expect(document.documentElement.lang).toBe('zh');
    expect(root.textContent).toContain('把文档拖到这里');
    expect(root.textContent).toContain('试用示例知识库');
    await click($('lang-toggle')!);
    expect(document.documentElement.lang).toBe('en');
    expect(localStorage.getItem('doctalk.lang')).toBe('en');
  });

  it('streams an answer: tokens first, then citation chips, rewritten query, and a source viewer', async () => {
    const transport = new FakeTransport();
    await renderApp(transport);
    await type($('composer')!, '那住宿呢？');
    await key($('composer')!, { key: 'Enter' });
    const ask = transport.last('ask_stream');
    expect(ask.call.body).toEqual({ question: '那住宿呢？', conversation: 'new' });
    expect($('message-user')?.textContent).toBe('那住宿呢？');

    const source = {
      n: 1,
      path: '/kb/faq.csv',
      title: 'Helpdesk FAQ',
      page: null,
      text: 'How do I reset my VPN password?\nUse the self-service portal.',
      kind: 'qa',
      doc_id: 'd1',
      chunk_id: 'c1',
      heading_path: [],
      row: 12,
      score: 0.9,
    };
    await act(async () => {
      ask.emit('query', { query: '出差住宿标准是什么' });
      ask.emit('sources', [source]);
      ask.emit('token', { text: 'Use the portal ' });
    });
    const message = $('message-assistant')!;
    expect(message.dataset.state).toBe('streaming');
    expect(message.textContent).toContain('Use the portal');
    expect($$('citation')).toHaveLength(0);
    expect($('stop-button')).not.toBeNull();
    expect($('read-aloud-button')).toBeNull(); // only a finished answer is read aloud

    await act(async () => {
      ask.emit('token', { text: '[1' });
    });
    expect($$('citation')).toHaveLength(0); // half a marker is still text
    await act(async () => {
      ask.emit('token', { text: ']' });
    });
    expect($$('citation').map((c) => c.dataset.n)).toEqual(['1']);
    expect($('rewritten-query')?.textContent).toContain('出差住宿标准是什么');

    await act(async () => {
      ask.emit('done', {
        answer: 'Use the portal [1]',
        sources: [source],
        query: '出差住宿标准是什么',
        grounded: true,
        mode: 'extractive',
        lang: 'en',
        cited: [1],
        invalid_citations: [],
        fallback_reason: 'no model configured',
        model: null,
        cancelled: false,
        timings: {},
        conversation: 'conv-1',
      });
    });
    await settle();
    expect($('message-assistant')?.dataset.state).toBe('done');
    expect($('send-button')).not.toBeNull();
    expect($('fallback-reason')?.textContent).toContain('no model configured');
    expect($('source-item')?.textContent).toContain('FAQ row 12');
    expect($('copy-button')).not.toBeNull();

    await click($('read-aloud-button')!);
    const speak = transport.calls.find((c) => c.command === 'speak');
    expect(speak?.path).toBe('/api/speak');
    expect(speak?.body).toEqual({ text: 'Use the portal [1]' });

    await click($('citation')!);
    const qa = $('qa-viewer');
    expect(qa?.querySelector('strong')?.textContent).toBe('How do I reset my VPN password?');
    expect(qa?.textContent).toContain('Use the self-service portal.');
  });

  it('says which claims of the model its sources did not support', async () => {
    const transport = new FakeTransport();
    await renderApp(transport);
    await type($('composer')!, '中午几点开始午休？');
    await key($('composer')!, { key: 'Enter' });
    const ask = transport.last('ask_stream');
    await act(async () => {
      ask.emit('done', {
        answer: '资料原文：“午休时间为中午十二点到下午一点。” [1]',
        sources: [],
        query: '中午几点开始午休？',
        grounded: true,
        mode: 'llm',
        lang: 'zh',
        cited: [1],
        invalid_citations: [],
        fallback_reason: null,
        model: 'qwen',
        cancelled: false,
        unverified: [{ claim: '两点', sentence: '中午两点开始午休。' }],
        timings: {},
        conversation: null,
      });
    });
    await settle();
    expect($('unverified-claims')?.textContent).toContain('“两点”');
    expect($('fallback-reason')).toBeNull();
  });

  it('Esc in the composer stops a streaming answer and keeps what arrived', async () => {
    const transport = new FakeTransport();
    await renderApp(transport);
    await type($('composer')!, 'question');
    await key($('composer')!, { key: 'Enter' });
    const ask = transport.last('ask_stream');
    await act(async () => ask.emit('token', { text: 'partial answer' }));
    await key($('composer')!, { key: 'Escape' });
    await settle();
    expect(ask.stopped).toBe(true);
    const message = $('message-assistant')!;
    expect(message.dataset.state).toBe('stopped');
    expect(message.textContent).toContain('partial answer');
  });

  it('shows an ApiError as a toast', async () => {
    const transport = new FakeTransport();
    await renderApp(transport);
    await type($('composer')!, 'q');
    await key($('composer')!, { key: 'Enter' });
    await act(async () => transport.last('ask_stream').emit('error', { code: 'answer_failed', message: 'model crashed' }));
    await settle();
    expect($('message-assistant')?.dataset.state).toBe('error');
    expect($('toast')?.textContent).toContain('model crashed');
  });
});

describe('Spoken questions', () => {
  /** A microphone and MediaRecorder that "record" the given WAV bytes. */
  function fakeMicrophone(wav: Blob) {
    const stopped: string[] = [];
    class FakeRecorder {
      state = 'inactive';
      mimeType = 'audio/wav';
      ondataavailable: ((e: { data: Blob }) => void) | null = null;
      onstop: (() => void) | null = null;
      start() {
        this.state = 'recording';
      }
      stop() {
        this.state = 'inactive';
        this.ondataavailable?.({ data: wav });
        this.onstop?.();
      }
    }
    const track = { stop: () => stopped.push('track') };
    vi.stubGlobal('MediaRecorder', FakeRecorder);
    Object.defineProperty(navigator, 'mediaDevices', {
      configurable: true,
      value: { getUserMedia: async () => ({ getTracks: () => [track] }) },
    });
    return stopped;
  }

  afterEach(() => {
    vi.unstubAllGlobals();
    Object.defineProperty(navigator, 'mediaDevices', { configurable: true, value: undefined });
  });

  it('records a question, has it written down and asks it', async () => {
    const stopped = fakeMicrophone(encodeWav(new Float32Array(16000), 16000));
    const transport = new FakeTransport();
    transport.replies.transcribe = { text: ' Where is the parking? ', language: 'en', audio_seconds: 1, transcribe_ms: 300 };
    await renderApp(transport);
    const mic = $('mic-button') as HTMLButtonElement;
    expect(mic.dataset.state).toBe('idle');
    await click(mic);
    await settle();
    expect(mic.dataset.state).toBe('listening');
    await click(mic); // finished by hand (push to talk)
    await settle();
    const call = transport.calls.find((c) => c.command === 'transcribe');
    expect(call?.path).toBe('/api/transcribe');
    expect(call?.raw).toBeInstanceOf(Blob);
    expect(stopped).toEqual(['track']); // the microphone is released
    const ask = transport.last('ask_stream');
    expect((ask.call.body as { question: string }).question).toBe('Where is the parking?');
    expect($$('message-user').map((m) => m.textContent)).toEqual(['Where is the parking?']);
    expect(mic.dataset.state).toBe('idle');
  });

  it('says so when nothing was heard, and asks nothing', async () => {
    fakeMicrophone(encodeWav(new Float32Array(16000), 16000));
    const transport = new FakeTransport();
    transport.replies.transcribe = { text: '', language: 'en', audio_seconds: 1, transcribe_ms: 300 };
    await renderApp(transport);
    await click($('mic-button')!);
    await settle();
    await click($('mic-button')!);
    await settle();
    expect(root.textContent).toContain('Nothing was heard');
    expect(transport.streams.some((s) => s.call.command === 'ask_stream')).toBe(false);
  });

  it('in the desktop app, has the engine listen to the microphone and ends it on a second click', async () => {
    const transport = new FakeTransport();
    transport.kind = 'tauri';
    transport.replies.listen_stop = true;
    await renderApp(transport);
    const mic = $('mic-button') as HTMLButtonElement; // shown although the page itself cannot record
    await click(mic);
    await settle();
    const listening = transport.last('listen');
    expect(mic.dataset.state).toBe('starting');
    await act(async () => listening.emit('listening', { device: 'default' }));
    expect(mic.dataset.state).toBe('listening');
    await act(async () => listening.emit('speech', {}));
    await click(mic); // "I am done"
    expect(transport.calls.some((c) => c.command === 'listen_stop')).toBe(true);
    await act(async () => listening.emit('transcribing', {}));
    expect(mic.dataset.state).toBe('transcribing');
    await act(async () =>
      listening.emit('done', { text: '请问商旅的出差制度', language: 'zh', audio_seconds: 2, transcribe_ms: 500 }),
    );
    await settle();
    const ask = transport.last('ask_stream');
    expect((ask.call.body as { question: string }).question).toBe('请问商旅的出差制度');
    expect(mic.dataset.state).toBe('idle');
  });

  it('says why when the desktop has no microphone', async () => {
    const transport = new FakeTransport();
    transport.kind = 'tauri';
    await renderApp(transport);
    await click($('mic-button')!);
    await settle();
    await act(async () =>
      transport.last('listen').emit('error', { code: 'no_microphone', message: 'no microphone to listen to: none found' }),
    );
    await settle();
    expect(root.textContent).toContain('Could not use the microphone: no microphone to listen to');
    expect(($('mic-button') as HTMLButtonElement).dataset.state).toBe('idle');
  });

  it('has no microphone button where the window cannot record', async () => {
    const transport = new FakeTransport();
    await renderApp(transport);
    expect($('mic-button')).toBeNull();
  });
});

/** A settings reply as GET/PUT /api/settings give it. */
function settingsReply(over: Partial<Settings> = {}): Settings {
  return {
    data_dir: '/data',
    kb: 'default',
    language: 'en',
    script: 'auto',
    model: { kind: 'local', id: null, path: null, url: null, adapter: null },
    device: { current: 'cpu', available: ['cpu'] },
    encoder: 'e5',
    voice: { enabled: false, voice: null },
    model_loaded: 'qwen-0.5b',
    model_status: { state: 'ready', model: 'qwen-0.5b' },
    catalogue: [],
    adapters: [],
    adapters_dir: '/data/adapters',
    voices: [],
    ...over,
  };
}

describe('Voice and model settings', () => {
  async function askAndFinish(transport: FakeTransport, answer: string) {
    await type($('composer')!, 'question');
    await key($('composer')!, { key: 'Enter' });
    const ask = transport.last('ask_stream');
    await act(async () => {
      ask.emit('token', { text: answer });
      ask.emit('done', {
        answer,
        sources: [],
        query: 'question',
        grounded: false,
        mode: 'extractive',
        lang: 'en',
        cited: [],
        invalid_citations: [],
        fallback_reason: null,
        model: null,
        cancelled: false,
        timings: {},
        conversation: 'conv-1',
      });
    });
    await settle();
  }

  it('reads a finished answer aloud by itself when the settings say so', async () => {
    const transport = new FakeTransport();
    transport.replies.settings_get = settingsReply({ voice: { enabled: true, voice: 'piper-en_us-joe-medium' } });
    await renderApp(transport);
    await askAndFinish(transport, 'The office opens at nine.');
    const speak = transport.calls.filter((c) => c.command === 'speak');
    expect(speak).toHaveLength(1);
    expect(speak[0]?.body).toEqual({ text: 'The office opens at nine.' });
  });

  it('does not read answers aloud when speaking is off', async () => {
    const transport = new FakeTransport();
    transport.replies.settings_get = settingsReply();
    await renderApp(transport);
    await askAndFinish(transport, 'The office opens at nine.');
    expect(transport.calls.some((c) => c.command === 'speak')).toBe(false);
    expect($('read-aloud-button')).not.toBeNull();
  });

  it('makes a cloned voice from a picked recording, shows its progress and selects it', async () => {
    const transport = new FakeTransport();
    const me = {
      id: 'me',
      kind: 'cloned' as const,
      engine: 'cloned: espeak-ng re-voiced by the neural tone-colour converter (openvoice-v2)',
      languages: ['zh', 'en'],
      license: 'your recording; consent: my own voice',
      available: true,
      reason: null,
    };
    let made = false;
    transport.replies.settings_get = () => settingsReply(made ? { voices: [me] } : {});
    await renderApp(transport);
    await click($('settings-button')!);
    const create = $('voice-create') as HTMLButtonElement;
    expect(create.disabled).toBe(true);

    await type($('voice-name')!, 'me');
    const picker = $('voice-sample') as HTMLInputElement;
    const file = new File([encodeWav(new Float32Array(16000), 16000)], 'me.wav', { type: 'audio/wav' });
    Object.defineProperty(picker, 'files', { value: [file] });
    await act(async () => {
      picker.dispatchEvent(new Event('change', { bubbles: true }));
    });
    expect(create.disabled).toBe(true); // no consent yet
    await type($('voice-consent')!, 'my own voice');
    expect(create.disabled).toBe(false);

    await click(create);
    await settle();
    const stream = transport.last('voice_add');
    expect(stream.call.path).toBe('/api/voices');
    expect(stream.call.query).toEqual({ name: 'me', consent: 'my own voice' });
    expect(stream.call.args).toEqual({ name: 'me', consent: 'my own voice' });
    expect(stream.call.raw).toBe(file); // a WAV file is sent as it is
    await act(async () => stream.emit('progress', { stage: 'measuring' }));
    expect(create.textContent).toContain('Measuring the voice');

    made = true;
    await act(async () =>
      stream.emit('done', {
        voice: { id: 'me', base_voice: 'espeak-ng', speech_seconds: 12, engine: 'neural', warnings: [] },
      }),
    );
    await settle();
    expect(root.textContent).toContain('Added the voice me (neural converter).');
    expect($$('cloned-voice').map((li) => li.textContent)).toEqual([expect.stringContaining('neural')]);
    // Chosen as the voice that reads answers.
    expect(Array.from(root.querySelectorAll<HTMLSelectElement>('select')).some((s) => s.value === 'me')).toBe(true);

    // Removing asks first, then deletes it.
    await click(root.querySelector<HTMLElement>('[data-testid="cloned-voice"] button')!);
    await click($('confirm-yes')!);
    await settle();
    const removal = transport.calls.find((c) => c.command === 'voice_remove');
    expect(removal?.path).toBe('/api/voices/me');
    expect(removal?.method).toBe('DELETE');
    // It was the chosen voice: the form no longer offers to save it.
    expect(Array.from(root.querySelectorAll<HTMLSelectElement>('select')).some((s) => s.value === 'me')).toBe(false);
  });

  it('says why a recording could not become a voice', async () => {
    const transport = new FakeTransport();
    transport.replies.settings_get = settingsReply();
    await renderApp(transport);
    await click($('settings-button')!);
    await type($('voice-name')!, 'quiet');
    const picker = $('voice-sample') as HTMLInputElement;
    Object.defineProperty(picker, 'files', {
      value: [new File([encodeWav(new Float32Array(8000), 8000)], 'quiet.wav')],
    });
    await act(async () => {
      picker.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await type($('voice-consent')!, 'test');
    await click($('voice-create')!);
    await settle();
    await act(async () =>
      transport.last('voice_add').emit('error', { code: 'bad_request', message: 'has 0.0 s of speech' }),
    );
    await settle();
    expect($('voice-error')?.textContent).toContain('has 0.0 s of speech');
    expect(($('voice-create') as HTMLButtonElement).disabled).toBe(false);
  });

  it('switches the model without a restart and follows it while it loads', async () => {
    const transport = new FakeTransport();
    const remoteModel = { kind: 'remote' as const, id: null, path: null, url: 'http://gpu:8080/v1', adapter: null };
    const loading = {
      model: remoteModel,
      model_status: { state: 'loading' as const, model: 'qwen-0.5b', choice: 'the first model at http://gpu:8080/v1' },
    };
    let phase: 'before' | 'loading' | 'loaded' = 'before';
    transport.replies.settings_get = () =>
      phase === 'before'
        ? settingsReply()
        : phase === 'loading'
          ? settingsReply(loading)
          : settingsReply({
              model: remoteModel,
              model_loaded: 'glm-4-9b',
              model_status: { state: 'ready', model: 'glm-4-9b' },
            });
    transport.replies.settings_set = () => {
      phase = 'loading';
      return settingsReply(loading);
    };
    await renderApp(transport);
    await click($('settings-button')!);
    expect($('model-status')?.dataset.state).toBe('ready');
    expect($('model-status')?.textContent).toBe('Answering with qwen-0.5b.');

    const remote = root.querySelector<HTMLInputElement>('input[name="model-kind"][value="remote"]')!;
    await act(async () => {
      remote.click();
    });
    const url = root.querySelector<HTMLInputElement>('input[type="url"]')!;
    await type(url, 'http://gpu:8080/v1');
    await act(async () => {
      root.querySelector<HTMLFormElement>('.settings-form')!.requestSubmit();
    });
    await settle();
    const set = transport.calls.find((c) => c.command === 'settings_set');
    // A remote model takes no adapter: a saved one is cleared.
    expect(set?.body).toEqual({ model: { kind: 'remote', id: null, url: 'http://gpu:8080/v1', adapter: null } });
    // Still open, saying what loads and who answers meanwhile.
    expect($('settings-dialog')).not.toBeNull();
    expect($('model-status')?.dataset.state).toBe('loading');
    expect($('model-status')?.textContent).toContain('qwen-0.5b answers until it is ready');

    phase = 'loaded';
    await act(async () => {
      await new Promise((r) => setTimeout(r, MODEL_POLL_MS + 200));
    });
    await settle();
    expect($('model-status')?.dataset.state).toBe('ready');
    expect($('model-status')?.textContent).toBe('Answering with glm-4-9b.');
    expect(root.textContent).toContain('Now answering with glm-4-9b.');
  });

  it('saves the Chinese script answers are shown in', async () => {
    const transport = new FakeTransport();
    transport.replies.settings_get = () => settingsReply();
    transport.replies.settings_set = () => settingsReply({ script: 'traditional' });
    await renderApp(transport);
    await click($('settings-button')!);
    const picker = $('settings-script') as HTMLSelectElement;
    expect(picker.value).toBe('auto');
    picker.value = 'traditional';
    await act(async () => {
      picker.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await act(async () => {
      root.querySelector<HTMLFormElement>('.settings-form')!.requestSubmit();
    });
    await settle();
    const set = transport.calls.find((c) => c.command === 'settings_set');
    expect(set?.body).toEqual({ script: 'traditional' });
  });

  it('chooses a LoRA adapter for the local model; an unusable one cannot be picked', async () => {
    const transport = new FakeTransport();
    const adapters = [
      { name: 'broken', path: '/data/adapters/broken', format: null, layers: 0, base_model: null, error: 'bad json' },
      { name: 'faq-tuned', path: '/data/adapters/faq-tuned', format: 'peft' as const, layers: 168, base_model: 'Qwen/Qwen2.5-0.5B-Instruct', error: null },
    ];
    transport.replies.settings_get = () => settingsReply({ adapters, adapters_dir: '/data/adapters' });
    transport.replies.settings_set = () =>
      settingsReply({ adapters, model: { kind: 'local', id: null, path: null, url: null, adapter: 'faq-tuned' } });
    await renderApp(transport);
    await click($('settings-button')!);
    const picker = $('model-adapter') as HTMLSelectElement;
    expect(picker.value).toBe('');
    const options = Array.from(picker.options);
    expect(options.map((o) => o.value)).toEqual(['', 'broken', 'faq-tuned']);
    expect(options[1]?.disabled).toBe(true);
    expect(options[2]?.textContent).toBe('faq-tuned (Qwen/Qwen2.5-0.5B-Instruct)');
    expect($('adapters-hint')?.textContent).toContain('/data/adapters');
    picker.value = 'faq-tuned';
    await act(async () => {
      picker.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await act(async () => {
      root.querySelector<HTMLFormElement>('.settings-form')!.requestSubmit();
    });
    await settle();
    const set = transport.calls.find((c) => c.command === 'settings_set');
    expect(set?.body).toEqual({ model: { kind: 'local', id: null, url: null, adapter: 'faq-tuned' } });
  });

  it('says why a chosen model could not be loaded', async () => {
    const transport = new FakeTransport();
    transport.replies.settings_get = settingsReply({
      model_status: { state: 'failed', model: 'qwen-0.5b', message: 'no model file at /nowhere.gguf' },
    });
    await renderApp(transport);
    await click($('settings-button')!);
    expect($('model-status')?.dataset.state).toBe('failed');
    expect($('model-status')?.textContent).toBe('The chosen model could not be loaded: no model file at /nowhere.gguf');
  });
});

describe('Team users (admin page)', () => {
  const admin = { auth: 'users', name: 'root', role: 'admin', kbs: [], all_kbs: true };

  it('is shown to an admin of a team server: adds a user, shows the token once, removes one', async () => {
    const transport = new FakeTransport();
    transport.replies.settings_get = () => settingsReply();
    transport.replies.me = admin;
    let users = [{ name: 'root', role: 'admin', kbs: [], all_kbs: true, created_at: 1 }];
    transport.replies.users_list = () => users;
    transport.replies.users_add = (call: Call) => {
      const body = call.body as { name: string; role: string; kbs: string[] };
      const user = { ...body, all_kbs: body.kbs.length === 0, created_at: 2 };
      users = [...users, user as (typeof users)[number]];
      return { user, token: 'dt_' + 'a'.repeat(64) };
    };
    transport.replies.users_remove = (call: Call) => {
      const name = (call.args as { name: string }).name;
      users = users.filter((u) => u.name !== name);
      return { removed: name };
    };
    await renderApp(transport);
    await click($('settings-button')!);
    expect($('users-panel')).not.toBeNull();
    expect($$('user-row').map((r) => r.textContent)).toEqual([expect.stringContaining('root')]);

    await type($('user-name')!, 'alice');
    const role = $('user-role') as HTMLSelectElement;
    role.value = 'editor';
    await act(async () => {
      role.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await type($('user-kbs')!, 'hr， finance hr');
    await click($('user-add')!);
    const add = transport.calls.find((c) => c.command === 'users_add');
    expect(add?.body).toEqual({ name: 'alice', role: 'editor', kbs: ['hr', 'finance'] });
    expect(add?.path).toBe('/api/users');
    expect($('issued-token')?.textContent).toContain('dt_' + 'a'.repeat(64));
    expect($$('user-row')[1]?.textContent).toContain('hr, finance');

    await click($$('user-remove')[1]!);
    await click($('confirm-yes')!);
    expect(transport.calls.find((c) => c.command === 'users_remove')?.path).toBe('/api/users/alice');
    expect($$('user-row')).toHaveLength(1);
    expect($('issued-token')).toBeNull();
  });

  it('is not shown to a reader, nor without users (the desktop, a one-person server)', async () => {
    for (const me of [
      { auth: 'users', name: 'rd', role: 'reader', kbs: ['hr'], all_kbs: false },
      { auth: 'none', name: null, role: 'admin', kbs: [], all_kbs: true },
    ]) {
      const transport = new FakeTransport();
      transport.replies.settings_get = () => settingsReply();
      transport.replies.me = me;
      await renderApp(transport);
      await click($('settings-button')!);
      expect($('settings-dialog')).not.toBeNull();
      expect($('users-panel')).toBeNull();
      expect(transport.calls.some((c) => c.command === 'users_list')).toBe(false);
      render(null, root);
    }
  });
});

describe('First run', () => {
  const e5 = {
    id: 'multilingual-e5-small',
    role: 'required' as const,
    installed: false,
    downloadable: true,
    license: 'MIT',
    license_url: 'https://opensource.org/licenses/MIT',
    size_bytes: null,
    kind: 'sentence-encoder',
    description: 'intfloat/multilingual-e5-small',
  };
  const qwen = {
    ...e5,
    id: 'qwen2.5-coder-0.5b-instruct-q4_k_m',
    role: 'recommended' as const,
    license: 'Apache-2.0',
    license_url: 'https://www.apache.org/licenses/LICENSE-2.0',
    size_bytes: 491_400_064,
    kind: 'chat-llm',
    description: 'Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF',
  };

  it('lists the models with licence and size, downloads them in order, then opens the app', async () => {
    const transport = new FakeTransport();
    let installed = false;
    transport.replies.setup_status = () => ({
      ready: installed,
      models: [e5, qwen].map((m) => ({ ...m, installed })),
      models_dir: '/home/u/.local/share/doctalk/models',
    });
    await renderApp(transport);
    expect($('setup-screen')).not.toBeNull();
    expect($('drop-zone')).toBeNull();
    const rows = $$('setup-model');
    expect(rows.map((r) => r.dataset.modelId)).toEqual([e5.id, qwen.id]);
    expect(rows[0]?.textContent).toContain('required');
    expect($$('setup-licence').map((l) => l.textContent)).toEqual([
      'MIThttps://opensource.org/licenses/MIT',
      'Apache-2.0https://www.apache.org/licenses/LICENSE-2.0',
    ]);
    // One size is unknown until the download starts, so no total is promised.
    expect($('setup-download')?.textContent).toBe('Download and start');
    expect(root.textContent).toContain('/home/u/.local/share/doctalk/models');

    await click($('setup-download')!);
    const first = transport.last('model_download');
    expect(first.call.args).toEqual({ id: e5.id });
    await act(async () => first.emit('progress', { downloaded: 50, total: 200 }));
    expect($('download-progress')?.textContent).toContain('25%');
    await act(async () => first.emit('done', { id: e5.id, path: '/x' }));
    await settle();
    const second = transport.last('model_download');
    expect(second.call.args).toEqual({ id: qwen.id });
    installed = true;
    await act(async () => second.emit('done', { id: qwen.id, path: '/y' }));
    await settle();
    await settle();
    expect($('setup-screen')).toBeNull();
    expect(root.textContent).toContain('Drop documents here');
  });

  it('stops at a failed required download and says why', async () => {
    const transport = new FakeTransport();
    transport.replies.setup_status = { ready: false, models: [e5, qwen], models_dir: null };
    await renderApp(transport);
    await click($('setup-download')!);
    await act(async () =>
      transport.last('model_download').emit('error', { code: 'download_failed', message: 'cannot reach huggingface.co' }),
    );
    await settle();
    expect($('setup-error')?.textContent).toBe('Download failed: cannot reach huggingface.co');
    expect(transport.calls.filter((c) => c.command === 'model_download')).toHaveLength(1);
    expect($('setup-screen')).not.toBeNull();
    expect($('setup-start')).toBeNull(); // nothing to start without the encoder
  });
});

describe('Composer', () => {
  function services(): Services {
    return {
      api: createApi(new FakeTransport(), () => undefined),
      t: (k: Key, v?: Vars) => translate('en', k, v),
      lang: 'en',
      langPref: 'en',
      setLangPref: () => undefined,
      toasts: new ToastStore(0),
      speakAnswers: false,
    };
  }

  async function renderComposer(streaming: boolean) {
    const onSend = vi.fn();
    const onStop = vi.fn();
    await act(async () => {
      render(
        <ServicesContext.Provider value={services()}>
          <Composer streaming={streaming} onSend={onSend} onStop={onStop} />
        </ServicesContext.Provider>,
        root,
      );
    });
    return { onSend, onStop, box: $('composer')! };
  }

  it('sends on Enter, not on Shift+Enter, and clears the box', async () => {
    const { onSend, box } = await renderComposer(false);
    await type(box, 'line one');
    await key(box, { key: 'Enter', shiftKey: true });
    expect(onSend).not.toHaveBeenCalled();
    await key(box, { key: 'Enter' });
    expect(onSend).toHaveBeenCalledWith('line one');
    expect((box as HTMLTextAreaElement).value).toBe('');
  });

  it('does not send while an input method is composing', async () => {
    const { onSend, box } = await renderComposer(false);
    await type(box, 'chu chai');
    await key(box, { key: 'Enter', isComposing: true });
    expect(onSend).not.toHaveBeenCalled();
  });

  it('stops on Esc only while streaming', async () => {
    const idle = await renderComposer(false);
    await key(idle.box, { key: 'Escape' });
    expect(idle.onStop).not.toHaveBeenCalled();
    const busy = await renderComposer(true);
    await key(busy.box, { key: 'Escape' });
    expect(busy.onStop).toHaveBeenCalledTimes(1);
    expect($('stop-button')).not.toBeNull();
    expect($('send-button')).toBeNull();
  });
});

describe('Check answers', () => {
  const report = {
    modes: [
      {
        mode: 'llm',
        model: 'qwen2.5-coder-0.5b-instruct-q4_k_m',
        totals: {
          questions: 2, answerable: 1, unanswerable: 1, fact_rate: 1, citation_rate: 1, fact_and_citation_rate: 1,
          refusal_rate: 0, false_refusal_rate: 0, answers_with_unverified: 1, first_token_ms_p50: 2400,
        },
        before_checking: null,
      },
    ],
    questions: [
      {
        q: '中午几点开始午休？', unanswerable: false, expect_any: ['12点'], source: null,
        answers: [{
          mode: 'llm', right: true, fact: true, cited_right: true, refused: false, answer: '午休从12点开始[1]。',
          answered_as: 'llm', fallback_reason: null, unverified: [], cited: [{ n: 1, path: '/kb/员工手册.pdf', page: 3 }],
          first_token_ms: 2400,
        }],
      },
      {
        q: '公司有班车吗？', unanswerable: true, expect_any: [], source: null,
        answers: [{
          mode: 'llm', right: false, fact: false, cited_right: false, refused: false, answer: '有班车[1]。',
          answered_as: 'llm', fallback_reason: null, unverified: [], cited: [], first_token_ms: 2500,
        }],
      },
    ],
    stopped: false,
    without_llm: null,
  };

  it('refuses a line without its fact, then runs the questions and shows the report', async () => {
    const transport = new FakeTransport();
    await renderApp(transport);
    await click($('check-button')!);
    expect($('check-dialog')).not.toBeNull();

    await type($('check-questions')!, '中午几点开始午休？\n');
    await click($('check-run')!);
    expect($('check-problem')!.textContent).toBe(translate('en', 'checkNoFacts', { line: 1 }));
    expect(transport.streams.some((s) => s.call.command === 'check_answers')).toBe(false);

    await type($('check-questions')!, '中午几点开始午休？ | 12点\n公司有班车吗？ | -');
    await click($('check-run')!);
    const check = transport.last('check_answers');
    expect(check.call.body).toEqual({
      questions: [{ q: '中午几点开始午休？', expect_any: ['12点'] }, { q: '公司有班车吗？', unanswerable: true }],
      extractive: true,
    });
    await act(async () => check.emit('progress', { mode: 'llm', done: 1, total: 4, q: '中午几点开始午休？', right: true }));
    expect($('check-progress')!.textContent).toContain(translate('en', 'checkProgress', { done: 1, total: 4 }));

    await act(async () => check.emit('done', report));
    await settle();
    expect($('check-llm-checkFactCitation')!.textContent).toBe('100%');
    expect($('check-llm-checkRefusals')!.textContent).toBe('0%');
    expect($('check-llm-checkFirstToken')!.textContent).toBe('2.4 s');
    const rows = $$('check-question');
    expect(rows).toHaveLength(2);
    expect(rows[0]!.textContent).toContain('员工手册.pdf p.3');
    expect(rows[1]!.textContent).toContain(translate('en', 'checkWrong'));
    expect($('check-run')).not.toBeNull();
  });

  it('stops a running check', async () => {
    const transport = new FakeTransport();
    await renderApp(transport);
    await click($('check-button')!);
    await type($('check-questions')!, 'q? | 1');
    await click($('check-run')!);
    await click($('check-stop')!);
    expect(transport.last('check_answers').stopped).toBe(true);
    expect($('check-problem')).toBeNull();
    expect($('check-run')).not.toBeNull();
  });
});

describe('Train on this knowledge base', () => {
  const plan = (over: Record<string, unknown> = {}) => ({
    kb: 'default', pairs: 80, base: '/models/qwen2.5-0.5b/model.gguf', adapter_name: 'default-tuned',
    adapter_path: '/data/adapters/default-tuned', replaces: false, train_pairs: 72, validation_pairs: 8,
    too_long: 0, steps: 216, resumable_at: null, checkpoint_conflict: null, tokens_per_second: 33.4,
    paraphrase_seconds: 0, training_seconds: 700, comparison_seconds: 65, seconds: 765, ...over,
  });
  const outcome = {
    adapter_name: 'default-tuned', adapter: '/data/adapters/default-tuned', in_use: false, train_pairs: 72, validation_pairs: 8,
    paraphrases: [], steps: 216, stopped: false,
    train_loss: 0.4, validation_loss_before: 3.766, validation_loss_after: 0.352, seconds: 951,
    comparison: {
      questions: 8, base_exact: 0, tuned_exact: 1, base_overlap: 0.323, tuned_overlap: 0.483,
      answers: [{ question: '怎么装滴滴', expected: '在应用商店搜索“滴滴出行”下载', base: '不知道', tuned: '在应用商店搜索滴滴出行' }],
    },
    comparison_error: null,
  };

  it('shows the measured estimate, trains with progress, compares and uses the adapter', async () => {
    const transport = new FakeTransport();
    transport.replies.tune_estimate = plan();
    transport.replies.settings_set = {};
    await renderApp(transport);
    await click($('train-button')!);
    expect($('train-estimate')!.textContent).toBe(
      translate('en', 'tuneEstimate', { time: '12:45', steps: 216, speed: 33 }),
    );
    expect(root.textContent).toContain(translate('en', 'tuneBase', { model: 'model.gguf', adapter: 'default-tuned' }));
    await click($('train-start')!);
    const run = transport.last('tune_run');
    expect(run.call.body).toEqual({});
    await act(async () => run.emit('progress', { event: 'prepared', train: 72, validation: 8, too_long: 0, steps: 216, resumed_at: 0 }));
    await act(async () => run.emit('progress', { event: 'validated', when: 'before', loss: 3.766 }));
    await act(async () => run.emit('progress', { event: 'step', step: 54, steps: 216, loss: 1.25, elapsed_s: 180, eta_s: 540 }));
    const progress = $('train-progress')!.textContent!;
    expect(progress).toContain(translate('en', 'tuneTraining', { step: 54, steps: 216 }));
    expect(progress).toContain(translate('en', 'tuneTimeLeft', { time: '9:00' }));
    expect(progress).toContain('1.250');
    expect($('train-start')).toBeNull();
    await act(async () => run.emit('progress', { event: 'comparing', done: 3, total: 16 }));
    expect($('train-progress')!.textContent).toContain(translate('en', 'tuneComparing', { done: 3, total: 16 }));

    await act(async () => run.emit('done', outcome));
    await settle();
    expect($('train-progress')).toBeNull();
    expect($('train-loss')!.textContent).toContain('3.766 → 0.352');
    expect($('train-base-exact')!.textContent).toBe('0');
    expect($('train-tuned-exact')!.textContent).toBe('1');
    expect($('train-tuned-overlap')!.textContent).toBe('48%');
    expect($$('train-answer')[0]!.textContent).toContain('在应用商店搜索滴滴出行');
    await click($('train-use')!);
    const set = transport.calls.find((c) => c.command === 'settings_set');
    expect(set?.body).toEqual({ model: { adapter: 'default-tuned' } });
    expect(($('train-use') as HTMLButtonElement).disabled).toBe(true);
  });

  it('offers to resume a stopped run, and a stop asks for the new plan', async () => {
    const transport = new FakeTransport();
    transport.replies.tune_estimate = plan({ resumable_at: 50, replaces: true });
    await renderApp(transport);
    await click($('train-button')!);
    expect($('train-resumable')!.textContent).toBe(translate('en', 'tuneResumable', { step: 50, steps: 216 }));
    expect(root.textContent).toContain(translate('en', 'tuneReplaces', { adapter: 'default-tuned' }));
    expect($('train-start')).toBeNull();
    await click($('train-resume')!);
    expect(transport.last('tune_run').call.body).toEqual({ resume: true });
    const estimates = transport.calls.filter((c) => c.command === 'tune_estimate').length;
    await click($('train-stop')!);
    expect(transport.last('tune_run').stopped).toBe(true);
    expect(transport.calls.filter((c) => c.command === 'tune_estimate').length).toBe(estimates + 1);
    expect(root.textContent).toContain(translate('en', 'tuneStopped'));
    await click($('train-restart')!);
    expect(transport.last('tune_run').call.body).toEqual({ restart: true });
  });

  it('asks the model for other ways of asking when chosen, estimates and trains with them', async () => {
    const transport = new FakeTransport();
    transport.replies.tune_estimate = (call: Call) =>
      plan((call.body as { paraphrases?: number }).paraphrases ? { steps: 648, paraphrase_seconds: 120, seconds: 2500 } : {});
    await renderApp(transport);
    await click($('train-button')!);
    expect($('train-estimate')!.textContent).toContain('216 steps');
    await click($('train-rewrite')!);
    const last = transport.calls.filter((c) => c.command === 'tune_estimate').pop()!;
    expect(last.body).toEqual({ paraphrases: 3 });
    expect($('train-estimate')!.textContent).toContain('648 steps');
    await click($('train-start')!);
    const run = transport.last('tune_run');
    expect(run.call.body).toEqual({ paraphrases: 3 });
    await act(async () => run.emit('progress', { event: 'paraphrasing', done: 5, total: 51 }));
    expect($('train-progress')!.textContent).toContain(translate('en', 'tuneParaphrasing', { done: 5, total: 51 }));
    await act(async () =>
      run.emit('done', { ...outcome, paraphrases: [{ of: '如何下载滴滴APP', text: '滴滴APP在哪里下载' }] }),
    );
    await settle();
    expect($('train-rewrites')!.textContent).toContain('滴滴APP在哪里下载');
  });

  it('is offered to admins only, and cannot be stopped once the last step is done', async () => {
    const reader = new FakeTransport();
    reader.replies.me = { auth: 'users', name: 'li', role: 'reader', kbs: ['default'], all_kbs: false };
    await renderApp(reader);
    expect($('train-button')).toBeNull();
    render(null, root);

    const transport = new FakeTransport();
    transport.replies.me = { auth: 'users', name: 'wang', role: 'admin', kbs: [], all_kbs: true };
    transport.replies.tune_estimate = plan({ steps: 3 });
    await renderApp(transport);
    await click($('train-button')!);
    await click($('train-start')!);
    const run = transport.last('tune_run');
    await act(async () => run.emit('progress', { event: 'step', step: 2, steps: 3, loss: 1, elapsed_s: 2, eta_s: 1 }));
    expect($('train-stop')).not.toBeNull();
    await act(async () => run.emit('progress', { event: 'step', step: 3, steps: 3, loss: 1, elapsed_s: 3, eta_s: 0 }));
    expect($('train-stop')).toBeNull();
    expect($('train-progress')).not.toBeNull();
  });

  it('says why a knowledge base cannot be trained on, and why a run failed', async () => {
    const transport = new FakeTransport();
    transport.replies.tune_estimate = new ApiError('bad_request', 'no question–answer pairs in knowledge base "notes"');
    await renderApp(transport);
    await click($('train-button')!);
    expect($('train-problem')!.textContent).toContain('no question–answer pairs');
    expect($('train-start')).toBeNull();

    transport.replies.tune_estimate = plan();
    await click($('train-close')!);
    expect($('train-dialog')).toBeNull();
    await click($('train-button')!);
    await click($('train-start')!);
    transport.replies.tune_estimate = plan({ resumable_at: 25 });
    await act(async () => transport.last('tune_run').emit('error', { code: 'tune_failed', message: 'the loss became NaN at step 3: lower the learning rate' }));
    await settle();
    expect($('train-problem')!.textContent).toBe(
      translate('en', 'tuneFailed', { message: 'the loss became NaN at step 3: lower the learning rate' }),
    );
    // The failed run may have left a checkpoint: the plan is asked for again and offers it.
    expect($('train-resume')).not.toBeNull();
  });
});

describe('Asking only some documents', () => {
  const doc = (id: string, title: string) => ({
    id, path: `/kb/${title}`, title, format: 'pdf', pages: 3, chunks: 4, size_bytes: 1000,
    embedding_model: 'e5', ingested_at_ms: 0,
  });

  it('keeps questions to the chosen documents, shows them above the composer, and lets go of them', async () => {
    const transport = new FakeTransport();
    transport.replies.documents_list = [doc('d1', '员工手册.pdf'), doc('d2', 'policy.pdf')];
    await renderApp(transport);
    const scopeButtons = $$('doc-scope');
    expect(scopeButtons).toHaveLength(2);
    expect($('scope-bar')).toBeNull();

    await click(scopeButtons[0]!);
    expect($$('doc-scope')[0]!.getAttribute('aria-pressed')).toBe('true');
    expect($$('scope-chip').map((c) => c.textContent)).toEqual(['员工手册.pdf×']);

    await type($('composer')!, '午休几点？');
    await key($('composer')!, { key: 'Enter' });
    expect(transport.last('ask_stream').call.body).toMatchObject({ question: '午休几点？', scope: { docs: ['d1'] } });
    await act(async () => transport.last('ask_stream').emit('done', { answer: 'x', sources: [], cited: [] }));
    await settle();

    await click($('scope-clear')!);
    expect($('scope-bar')).toBeNull();
    await type($('composer')!, '班车？');
    await key($('composer')!, { key: 'Enter' });
    expect((transport.last('ask_stream').call.body as { scope?: unknown }).scope).toBeUndefined();
  });
});

describe('Exporting a knowledge base', () => {
  it('leaves the conversations out unless asked to take them along', async () => {
    const transport = new FakeTransport();
    const made: Blob[] = [];
    const original = { create: URL.createObjectURL, revoke: URL.revokeObjectURL };
    URL.createObjectURL = (b: Blob) => {
      made.push(b);
      return 'blob:x';
    };
    URL.revokeObjectURL = () => {};
    try {
      await renderApp(transport);
      const select = $('kb-switcher') as HTMLSelectElement;
      const options = Array.from(select.options).map((o) => o.textContent);
      expect(options).toContain(translate('en', 'kbExportAll'));
      for (const label of ['kbExport', 'kbExportAll'] as const) {
        const option = Array.from(select.options).find((o) => o.textContent === translate('en', label))!;
        await act(async () => {
          select.value = option.value;
          select.dispatchEvent(new Event('change', { bubbles: true }));
        });
        await settle();
      }
      const exports = transport.calls.filter((c) => c.command === 'kb_export');
      expect(exports.map((c) => c.query)).toEqual([undefined, { conversations: true }]);
      expect(exports.map((c) => (c.args as { conversations: boolean }).conversations)).toEqual([false, true]);
      expect(made).toHaveLength(2);
    } finally {
      URL.createObjectURL = original.create;
      URL.revokeObjectURL = original.revoke;
    }
  });
});

describe('An answer read from the whole document', () => {
  it('says the document was read whole and lists only the passages it cites', async () => {
    const transport = new FakeTransport();
    await renderApp(transport);
    await type($('composer')!, 'Who approves remote access?');
    await key($('composer')!, { key: 'Enter' });
    const passage = (n: number, text: string) => ({
      n, path: '/kb/policy.pdf', title: 'policy', page: n, text, kind: 'passage', doc_id: 'd1',
      chunk_id: `d1:${n}`, heading_path: [], row: null, score: 0,
    });
    const sources = [passage(1, 'Scope.'), passage(2, 'Remote access is approved by the CISO.'), passage(3, 'Audits.')];
    await act(async () =>
      transport.last('ask_stream').emit('done', {
        answer: 'The CISO approves remote access [2].', sources, cited: [2], mode: 'llm', grounded: true,
        whole_document: true,
      }),
    );
    await settle();
    expect($('whole-document')!.textContent).toBe(translate('en', 'wholeDocument', { n: '3' }));
    expect($$('source-item')).toHaveLength(1);
  });
});

describe('Re-index with OCR forced or forbidden', () => {
  it('lets a PDF choose how Re-index reads it, without starting anything on the choice, and offers other formats none', async () => {
    const transport = new FakeTransport();
    transport.replies.documents_list = [
      { id: 'd1', path: '/kb/scan.pdf', title: 'scan', format: 'pdf', pages: 2, chunks: 3, size_bytes: 900, embedding_model: 'e5', ingested_at_ms: 0 },
      { id: 'd2', path: '/kb/notes.md', title: 'notes', format: 'markdown', pages: null, chunks: 1, size_bytes: 90, embedding_model: 'e5', ingested_at_ms: 0 },
    ];
    await renderApp(transport);
    expect($$('doc-reindex')).toHaveLength(2);
    expect($$('doc-reindex-ocr')).toHaveLength(1);
    const select = $('doc-reindex-ocr') as HTMLSelectElement;
    expect(select.value).toBe('auto');
    await act(async () => {
      select.value = 'always';
      select.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await settle();
    expect(transport.calls.filter((c) => c.command === 'documents_reindex')).toHaveLength(0);

    await click($$('doc-reindex')[0]!);
    const forced = transport.last('documents_reindex');
    expect(forced.call.args).toMatchObject({ id: 'd1', ocr: 'always' });
    expect(forced.call.query).toMatchObject({ ocr: 'always' });
    await act(async () => forced.emit('done', { files: [] }));
    await settle();

    // The other format has no choice: its re-index leaves OCR to the file, and the HTTP call
    // carries no `ocr`.
    await click($$('doc-reindex')[1]!);
    const plain = transport.last('documents_reindex');
    expect(plain.call.args).toMatchObject({ id: 'd2', ocr: 'auto' });
    expect(plain.call.query?.ocr).toBeUndefined();
  });
});

describe('Summarise a document', () => {
  it('shows progress, then the cited summary; a citation opens its passage; a longer one can be asked for', async () => {
    const transport = new FakeTransport();
    transport.replies.documents_list = [
      { id: 'd1', path: '/kb/policy.md', title: 'policy', format: 'markdown', pages: null, chunks: 9, size_bytes: 900, embedding_model: 'e5', ingested_at_ms: 0 },
    ];
    await renderApp(transport);
    await click($('doc-summarize')!);
    const stream = transport.last('document_summarize');
    expect(stream.call.args).toMatchObject({ id: 'd1', length: 'short' });
    await act(async () => stream.emit('progress', { done: 1, total: 3 }));
    expect($('summary-progress')!.textContent).toContain(translate('en', 'summaryProgress', { done: 1, total: 3 }));
    const source = {
      n: 1, path: '/kb/policy.md', title: 'policy', page: null, text: 'Laptops are encrypted with BitLocker.',
      kind: 'passage', doc_id: 'd1', chunk_id: 'd1:0', heading_path: ['Encryption'], row: null, score: 0,
    };
    await act(async () =>
      stream.emit('done', {
        doc_id: 'd1', title: 'policy', path: '/kb/policy.md', lang: 'en', mode: 'llm', model: 'qwen', summary: '- Laptops are encrypted with BitLocker. [1]',
        sources: [source], unverified: [], passages_read: 3, passages_total: 9, cancelled: false, fallback_reason: null,
      }),
    );
    await settle();
    expect($('summary-progress')).toBeNull();
    expect($('summary-text')!.textContent).toContain('Laptops are encrypted with BitLocker.');
    expect($('summary-meta')!.textContent).toBe(translate('en', 'summaryMeta', { read: 3, total: 9, by: 'qwen' }));
    await click($('summary-dialog')!.querySelector<HTMLElement>('[data-testid="citation"]')!);
    expect($('summary-dialog')).toBeNull();
    expect($('passage-viewer')!.textContent).toContain('BitLocker');

    // Opened again it starts over; stopped, it can be asked for at the other length.
    await click($('doc-summarize')!);
    const again = transport.last('document_summarize');
    expect(again).not.toBe(stream);
    await click($('summary-stop')!);
    expect(again.stopped).toBe(true);
    expect($('summary-progress')).toBeNull();
    await click($('summary-long')!);
    expect(transport.last('document_summarize').call.args).toMatchObject({ length: 'long' });
  });
});

describe('Watched folders', () => {
  it('starts watching a typed folder, shows counts and why files failed, syncs and stops', async () => {
    const transport = new FakeTransport();
    const folder = {
      path: '/home/me/handbooks', include: [], exclude: ['drafts'], indexed: 12, queued: 1, failed: 1, available: true,
      files: [{ path: '/home/me/handbooks/scan.pdf', state: 'failed', reason: 'no_text: no indexable text was found', size: 10 }],
    };
    transport.replies.folders_list = [];
    transport.replies.folders_add = (call: { body?: unknown }) => {
      transport.replies.folders_list = [folder];
      return { folder: call.body, watching: true };
    };
    transport.replies.folders_sync = { added: 2, changed: 1, moved: 0, duplicates: 0, removed: 1, unchanged: 9, failed: 1, queued: 0, elapsed_ms: 5 };
    transport.replies.folders_remove = { removed_paths: 13 };
    await renderApp(transport);
    expect($$('watched-folder')).toHaveLength(0);

    await click($('watch-folder')!);
    await type($('watch-path')!, '/home/me/handbooks');
    await click($('watch-start')!);
    await settle();
    expect(transport.calls.find((c) => c.command === 'folders_add')!.body).toEqual({
      path: '/home/me/handbooks', include: [], exclude: [],
    });
    const row = $$('watched-folder')[0]!;
    expect(row.textContent).toContain(translate('en', 'watchCounts', { indexed: 12, queued: 1, failed: 1 }));
    expect(row.textContent).toContain('scan.pdf: no_text: no indexable text was found');

    // Questions kept to the folder's documents.
    await click($('watch-ask')!);
    expect($$('scope-folder').map((c) => c.textContent)).toEqual(['📁 handbooks×']);
    await type($('composer')!, '出差住宿标准？');
    await key($('composer')!, { key: 'Enter' });
    expect(transport.last('ask_stream').call.body).toMatchObject({ scope: { folders: ['/home/me/handbooks'] } });
    await act(async () => transport.last('ask_stream').emit('done', { answer: 'x', sources: [], cited: [] }));
    await settle();
    await click($('scope-clear')!);
    expect($('scope-bar')).toBeNull();

    await click($('sync-now')!);
    await settle();
    expect(transport.calls.some((c) => c.command === 'folders_sync')).toBe(true);

    transport.replies.folders_list = [];
    await click($('watch-stop')!);
    expect(transport.calls.some((c) => c.command === 'folders_remove')).toBe(false);
    await click($('watch-stop-confirm')!);
    await settle();
    expect(transport.calls.find((c) => c.command === 'folders_remove')!.args).toMatchObject({ path: '/home/me/handbooks' });
    expect($$('watched-folder')).toHaveLength(0);
  });
});

describe('Backup and move', () => {
  it('imports an archive under a name taken from its file, then switches to it', async () => {
    const transport = new FakeTransport();
    transport.replies.kb_import = (call: { args?: Record<string, unknown> }) => ({
      kb: call.args?.name, documents: 3, chunks: 116, reembedded: false,
    });
    await renderApp(transport);
    const input = $('kb-import-file') as HTMLInputElement;
    const file = new File([new Uint8Array([31, 139])], 'work backup (2).dtkb');
    Object.defineProperty(input, 'files', { value: [file] });
    await act(async () => {
      input.dispatchEvent(new Event('change'));
    });
    expect(($('kb-import-name') as HTMLInputElement).value).toBe('work-backup-2');
    await click($('kb-import-start')!);
    await settle();
    const call = transport.calls.find((c) => c.command === 'kb_import')!;
    expect(call.args).toEqual({ name: 'work-backup-2' });
    expect(call.raw).toBe(file);
    expect(transport.calls.filter((c) => c.command === 'kbs_list').length).toBeGreaterThan(1);
  });
});

describe('Retrieval test', () => {
  const hit = (rank: number, over: Record<string, unknown>) => ({
    rank, chunk_id: `d:${rank}`, doc_id: 'd', path: '/kb/faq.csv', title: 'faq', page: null, kind: 'qa',
    text: `passage ${rank}`, heading_path: [], questions: [], answer: null, fused_score: 0.9 - rank / 100,
    dense: { rank, score: 0.9 - rank / 100 }, bm25: null, faq_match: null, identifier_match: false, ...over,
  });
  const explanation = (grounded: boolean) => ({
    query: 'XH-Connect 连不上怎么办',
    bm25_weight: 0.02,
    identifiers: ['XH-Connect'],
    identifier_bonus: 0.03,
    hits: [
      hit(1, { bm25: { rank: 1, score: 14.49 }, text: 'VPN连不上怎么办？ 请确认服务器地址' }),
      hit(2, { identifier_match: true, path: '/kb/员工手册.pdf', kind: 'passage', page: 9, title: '员工手册' }),
      hit(3, {}),
    ],
    evidence: { top_dense_score: 0.928, top_bm25_score: 14.49, faq_match: null, threshold: 0.878, key_terms: 0.5 },
    grounded,
    offered: grounded ? 2 : 0,
  });

  it('shows each passage with its scores and ranks, why it ranks there and what an answer would offer', async () => {
    const transport = new FakeTransport();
    transport.replies.search_explain = explanation(true);
    await renderApp(transport);
    await click($('explain-button')!);
    expect($('explain-dialog')).not.toBeNull();
    expect(($('explain-run') as HTMLButtonElement).disabled).toBe(true);
    await type($('explain-question')!, 'XH-Connect 连不上怎么办');
    await click($('explain-run')!);
    await settle();
    const call = transport.calls.find((c) => c.command === 'search_explain')!;
    expect(call.args).toMatchObject({ q: 'XH-Connect 连不上怎么办', k: 8 });
    expect(call.query).toMatchObject({ explain: true });
    const rows = $$('explain-hit');
    expect(rows).toHaveLength(3);
    expect(rows[0]!.textContent).toContain('0.890 (#1)');
    expect(rows[0]!.textContent).toContain('14.49 (#1)');
    expect(rows[0]!.textContent).toContain(translate('en', 'yes'));
    expect(rows[1]!.textContent).toContain(translate('en', 'explainIdentifiers', { ids: 'XH-Connect' }));
    expect(rows[1]!.textContent).toContain('page 9');
    expect(rows[2]!.textContent).toContain(translate('en', 'no'));
    expect($('explain-decision')!.textContent).toBe(
      translate('en', 'explainGrounded', { n: 2, best: '0.928', threshold: '0.878' }),
    );
  });

  it('says when an answer would find nothing, and shows a failed search as an error', async () => {
    const transport = new FakeTransport();
    transport.replies.search_explain = explanation(false);
    await renderApp(transport);
    await click($('explain-button')!);
    await type($('explain-question')!, '火星的大气层');
    await click($('explain-run')!);
    await settle();
    expect($('explain-decision')!.textContent).toBe(
      translate('en', 'explainNotGrounded', { best: '0.928', threshold: '0.878' }),
    );
    expect($$('explain-hit').every((r) => r.textContent!.includes(translate('en', 'no')))).toBe(true);

    transport.replies.search_explain = new ApiError('kb_not_found', 'no such knowledge base');
    await click($('explain-run')!);
    await settle();
    expect($('explain-problem')!.textContent).toBe(
      translate('en', 'explainFailed', { message: 'no such knowledge base' }),
    );
  });
});

describe('Searching all knowledge bases', () => {
  const doc = (id: string, title: string) => ({
    id, path: `/kb/${title}`, title, format: 'pdf', pages: 3, chunks: 4, size_bytes: 1000,
    embedding_model: 'e5', ingested_at_ms: 0,
  });
  const hit = (kb: string | undefined, title: string) => ({
    rank: 1, chunk_id: `${title}:1`, doc_id: title, path: `/kb/${title}`, title, page: 2, kind: 'passage',
    text: `passage of ${title}`, heading_path: [], questions: [], answer: null, span: [0, 10], fused_score: 0.9,
    ...(kb ? { kb } : {}),
  });

  it('offers the choice only with several, sends them all, names each hit and opens it in its own', async () => {
    const transport = new FakeTransport();
    transport.replies.documents_list = [doc('d1', '员工手册.pdf')];
    transport.replies.search = (call: Call) =>
      String(call.args?.kb ?? '').includes(',') ? [hit('it', 'policy.pdf'), hit('default', '员工手册.pdf')] : [hit(undefined, '员工手册.pdf')];
    await renderApp(transport);
    await type($('find-input')!, 'VPN 密码');
    await act(async () => new Promise((r) => setTimeout(r, 300)));
    await settle();
    // One knowledge base: no choice, the chosen one searched.
    expect($('find-everywhere')).toBeNull();
    expect(transport.calls.filter((c) => c.command === 'search').at(-1)!.args).toMatchObject({ q: 'VPN 密码' });

    transport.replies.kbs_list = { current: 'default', kbs: [{ name: 'default', documents: 1 }, { name: 'it', documents: 2 }] };
    render(null, root);
    await renderApp(transport);
    await type($('find-input')!, 'VPN 密码');
    await act(async () => new Promise((r) => setTimeout(r, 300)));
    await settle();
    await click($('find-everywhere')!);
    await act(async () => new Promise((r) => setTimeout(r, 300)));
    await settle();
    const call = transport.calls.filter((c) => c.command === 'search').at(-1)!;
    expect(call.args).toMatchObject({ q: 'VPN 密码', kb: 'default,it' });
    const hits = $$('find-hit');
    expect(hits).toHaveLength(2);
    expect(hits[0]!.textContent).toMatch(/^\[it\] policy\.pdf/);
    expect(hits[1]!.textContent).toMatch(/^\[default\] 员工手册\.pdf/);

    // A hit of another knowledge base switches to it, then opens the passage there.
    await click(hits[0]!);
    await settle();
    expect(transport.calls.filter((c) => c.command === 'documents_list').at(-1)!.args).toMatchObject({ kb: 'it' });
    expect($('passage-viewer') ?? $('pdf-viewer')).not.toBeNull();
  });
});
