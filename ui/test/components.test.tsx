import { render } from 'preact';
import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createApi } from '../src/api';
import { App } from '../src/components/App';
import { Composer } from '../src/components/chat/Composer';
import { translate, type Key, type Vars } from '../src/i18n';
import { ServicesContext, type Services } from '../src/state/context';
import { ToastStore } from '../src/state/toasts';
import { FakeTransport } from './fakeTransport';

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

describe('Composer', () => {
  function services(): Services {
    return {
      api: createApi(new FakeTransport(), () => undefined),
      t: (k: Key, v?: Vars) => translate('en', k, v),
      lang: 'en',
      langPref: 'en',
      setLangPref: () => undefined,
      toasts: new ToastStore(0),
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
