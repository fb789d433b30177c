import { describe, expect, it } from 'vitest';
import { ApiError } from '../src/api/errors';
import type { IngestEvent } from '../src/api/library';
import type { StreamHandle } from '../src/api/transport';
import type { FileReport, IngestDone } from '../src/api/types';
import { UploadQueue } from '../src/lib/uploadQueue';
import { applyProgress, newRow } from '../src/lib/uploads';

/** An ingest request the test drives by hand. */
class FakeIngest {
  onEvent!: (e: IngestEvent) => void;
  resolve!: (d: IngestDone) => void;
  reject!: (e: unknown) => void;
  stopped = false;
  started = false;

  start = (onEvent: (e: IngestEvent) => void): StreamHandle<IngestDone> => {
    this.started = true;
    this.onEvent = onEvent;
    const done = new Promise<IngestDone>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    return {
      done,
      stop: () => {
        this.stopped = true;
        this.reject(new ApiError('aborted', 'Stopped'));
      },
    };
  };

  progress(data: IngestEvent['data']) {
    this.onEvent({ event: 'progress', data });
  }
}

const flush = () => new Promise((r) => setTimeout(r, 0));

function report(path: string, status: FileReport['status'], extra: Partial<FileReport> = {}): FileReport {
  return { path, status, doc_id: status === 'failed' ? null : 'doc', pages: 3, chunks: 7, diagnostics: [], ...extra };
}

describe('UploadQueue', () => {
  it('never runs more than `concurrency` uploads at once, and starts the next as one finishes', async () => {
    const queue = new UploadQueue({ concurrency: 3 });
    const fakes = Array.from({ length: 7 }, () => new FakeIngest());
    queue.enqueueFiles(fakes.map((f, i) => ({ name: `f${i}.pdf`, start: f.start })));
    expect(fakes.filter((f) => f.started)).toHaveLength(3);
    expect(queue.activeCount).toBe(3);
    expect(queue.counts().queued).toBe(7);

    fakes[1]!.resolve({ files: [report('f1.pdf', 'indexed')] });
    await flush();
    expect(fakes.filter((f) => f.started)).toHaveLength(4);
    expect(fakes[3]!.started).toBe(true);
    expect(queue.activeCount).toBe(3);

    fakes[0]!.reject(new ApiError('network', 'down'));
    fakes[2]!.resolve({ files: [report('f2.pdf', 'unchanged')] });
    await flush();
    expect(fakes.filter((f) => f.started)).toHaveLength(6);
    expect(queue.activeCount).toBe(3);
  });

  it('moves a row through parse → embed → commit → indexed', async () => {
    const fake = new FakeIngest();
    const finished: string[] = [];
    const q2 = new UploadQueue({ concurrency: 1, onFinished: (r) => finished.push(r.status) });
    const [id] = q2.enqueueFiles([{ name: 'handbook.pdf', start: fake.start }]);
    const status = () => q2.row(id!)!.status;
    expect(status()).toBe('queued');
    fake.progress({ event: 'file_started', path: '/u/handbook.pdf', index: 0, total: 1 });
    expect(status()).toBe('parse');
    fake.progress({ event: 'stage', path: '/u/handbook.pdf', stage: { stage: 'parse' } });
    expect(status()).toBe('parse');
    fake.progress({ event: 'stage', path: '/u/handbook.pdf', stage: { stage: 'embed', done: 32, total: 96, eta_s: null } });
    expect(q2.row(id!)).toMatchObject({ status: 'embed', embed: { done: 32, total: 96, etaS: null } });
    fake.progress({ event: 'stage', path: '/u/handbook.pdf', stage: { stage: 'embed', done: 64, total: 96, eta_s: 12 } });
    expect(q2.row(id!)).toMatchObject({ status: 'embed', embed: { done: 64, total: 96, etaS: 12 } });
    fake.progress({ event: 'stage', path: '/u/handbook.pdf', stage: { stage: 'commit' } });
    expect(status()).toBe('commit');
    fake.progress({ event: 'file_finished', ...report('/u/handbook.pdf', 'indexed', { doc_id: 'd9' }) });
    expect(q2.row(id!)).toMatchObject({ status: 'indexed', docId: 'd9', chunks: 7, embed: null });
    fake.resolve({ files: [report('/u/handbook.pdf', 'indexed', { doc_id: 'd9' })] });
    await flush();
    expect(finished).toEqual(['indexed']);
  });

  it('keeps the diagnostics of a failed file, and a finished row never changes again', async () => {
    const queue = new UploadQueue();
    const fake = new FakeIngest();
    const [id] = queue.enqueueFiles([{ name: 'empty.txt', start: fake.start }]);
    const diagnostics = [{ code: 'empty_file', message: 'the file is empty', page: null }];
    fake.progress({ event: 'file_finished', ...report('empty.txt', 'failed', { diagnostics }) });
    fake.progress({ event: 'stage', path: 'empty.txt', stage: { stage: 'commit' } });
    fake.resolve({ files: [report('empty.txt', 'indexed')] });
    await flush();
    expect(queue.row(id!)).toMatchObject({ status: 'failed', diagnostics });
  });

  it('settles from the done event when no file_finished came, and fails on 413', async () => {
    const queue = new UploadQueue();
    const ok = new FakeIngest();
    const big = new FakeIngest();
    const [a, b] = queue.enqueueFiles([
      { name: 'a.md', start: ok.start },
      { name: 'huge.pdf', start: big.start },
    ]);
    ok.resolve({ files: [report('/uploads/a.md', 'unchanged')] });
    big.reject(new ApiError('payload_too_large', 'length limit exceeded'));
    await flush();
    expect(queue.row(a!)!.status).toBe('unchanged');
    expect(queue.row(b!)).toMatchObject({
      status: 'failed',
      diagnostics: [{ code: 'payload_too_large', message: 'length limit exceeded', page: null }],
    });
  });

  it('creates one row per path for a batch (desktop paths, the sample)', async () => {
    const queue = new UploadQueue();
    const fake = new FakeIngest();
    queue.enqueueBatch({ label: 'sample', start: fake.start });
    fake.progress({ event: 'file_started', path: '/s/handbook.pdf', index: 0, total: 2 });
    fake.progress({ event: 'file_finished', ...report('/s/handbook.pdf', 'indexed') });
    fake.progress({ event: 'file_started', path: '/s/faq.csv', index: 1, total: 2 });
    fake.resolve({ files: [report('/s/handbook.pdf', 'indexed'), report('/s/faq.csv', 'indexed'), report('/s/x.bin', 'failed')] });
    await flush();
    const rows = queue.ids().map((id) => queue.row(id)!);
    expect(rows.map((r) => [r.name, r.status])).toEqual([
      ['handbook.pdf', 'indexed'],
      ['faq.csv', 'indexed'],
      ['x.bin', 'failed'],
    ]);
  });

  it('stopAll cancels running and waiting uploads', async () => {
    const queue = new UploadQueue({ concurrency: 1 });
    const first = new FakeIngest();
    const second = new FakeIngest();
    const [a, b] = queue.enqueueFiles([
      { name: 'a.pdf', start: first.start },
      { name: 'b.pdf', start: second.start },
    ]);
    queue.stopAll();
    await flush();
    expect(first.stopped).toBe(true);
    expect(second.started).toBe(false);
    expect(queue.row(a!)).toMatchObject({ status: 'failed', diagnostics: [{ code: 'cancelled' }] });
    expect(queue.row(b!)).toMatchObject({ status: 'failed', diagnostics: [{ code: 'cancelled' }] });
    expect(queue.busy).toBe(false);
  });

  it('tells change listeners when the queue goes idle', async () => {
    const queue = new UploadQueue();
    const fake = new FakeIngest();
    queue.enqueueFiles([{ name: 'a.md', start: fake.start }]);
    const busy: boolean[] = [];
    queue.subscribeChange(() => busy.push(queue.busy));
    fake.resolve({ files: [report('a.md', 'indexed')] });
    await flush();
    expect(busy[busy.length - 1]).toBe(false);
  });

  it('tells row listeners only about their own row', () => {
    const queue = new UploadQueue();
    const fakes = [new FakeIngest(), new FakeIngest()];
    const [a, b] = queue.enqueueFiles(fakes.map((f, i) => ({ name: `${i}`, start: f.start })));
    let aCalls = 0;
    let bCalls = 0;
    let listCalls = 0;
    queue.subscribeRow(a!, () => aCalls++);
    queue.subscribeRow(b!, () => bCalls++);
    queue.subscribeList(() => listCalls++);
    fakes[0]!.progress({ event: 'stage', path: 'x', stage: { stage: 'embed', done: 1, total: 9, eta_s: null } });
    fakes[0]!.progress({ event: 'stage', path: 'x', stage: { stage: 'embed', done: 2, total: 9, eta_s: null } });
    expect([aCalls, bCalls, listCalls]).toEqual([2, 0, 0]);
  });
});

describe('applyProgress', () => {
  it('shows OCR page progress for a scan, then forgets it when the file is done', () => {
    const row = newRow('1', 'scan.pdf');
    const reading = applyProgress(row, {
      event: 'progress',
      data: { event: 'stage', path: 'scan.pdf', stage: { stage: 'ocr', done: 3, total: 40 } },
    });
    expect(reading.status).toBe('ocr');
    expect(reading.ocr).toEqual({ done: 3, total: 40 });
    // Read ahead of its turn: its own start does not take the OCR progress away.
    const started = applyProgress(reading, {
      event: 'progress',
      data: { event: 'file_started', path: 'scan.pdf', index: 1, total: 2 },
    });
    expect(started.status).toBe('ocr');
    const done = applyProgress(reading, {
      event: 'progress',
      data: { event: 'file_finished', ...report('scan.pdf', 'indexed') },
    });
    expect(done.status).toBe('indexed');
    expect(done.ocr).toBeNull();
  });

  it('ignores events after the row finished', () => {
    const failed = { ...newRow('r', 'f'), status: 'failed' as const };
    expect(applyProgress(failed, { event: 'progress', data: { event: 'stage', path: 'f', stage: { stage: 'parse' } } })).toBe(failed);
  });

  it('offers a password for a protected PDF and retries that file with it', async () => {
    const passwords: (string | undefined)[] = [];
    const fakes: FakeIngest[] = [];
    const queue = new UploadQueue({ concurrency: 1 });
    const [id] = queue.enqueueFiles([
      {
        name: 'locked.pdf',
        start: (onEvent, password) => {
          passwords.push(password);
          const fake = new FakeIngest();
          fakes.push(fake);
          return fake.start(onEvent);
        },
      },
    ]);
    const encrypted = { code: 'encrypted', message: 'the PDF is password-protected', page: null };
    fakes[0]!.resolve({ files: [report('locked.pdf', 'failed', { diagnostics: [encrypted] })] });
    await flush();
    expect(queue.needsPassword(id!)).toBe(true);

    queue.unlock(id!, 'wrong');
    expect(queue.row(id!)!.status).toBe('queued');
    expect(passwords).toEqual([undefined, 'wrong']);
    const wrong = { code: 'wrong_password', message: 'the password given does not open this PDF', page: null };
    fakes[1]!.resolve({ files: [report('locked.pdf', 'failed', { diagnostics: [wrong] })] });
    await flush();
    expect(queue.row(id!)!.diagnostics[0]!.code).toBe('wrong_password');
    expect(queue.needsPassword(id!)).toBe(true);

    queue.unlock(id!, 'right');
    fakes[2]!.resolve({ files: [report('locked.pdf', 'indexed')] });
    await flush();
    expect(passwords).toEqual([undefined, 'wrong', 'right']);
    expect(queue.row(id!)!.status).toBe('indexed');
    expect(queue.needsPassword(id!)).toBe(false);
    // An indexed row cannot be "unlocked" into a new run.
    queue.unlock(id!, 'again');
    expect(passwords).toHaveLength(3);
  });

  it('retries one file of a dropped folder by its path, and never offers a password for other failures', async () => {
    const batch = new FakeIngest();
    const unlocked: [string, string][] = [];
    const retry = new FakeIngest();
    const queue = new UploadQueue({ concurrency: 2 });
    queue.enqueueBatch({
      label: 'folder',
      start: batch.start,
      unlockPath: (path, password, onEvent) => {
        unlocked.push([path, password]);
        return retry.start(onEvent);
      },
    });
    batch.progress({ event: 'file_started', path: '/d/locked.pdf', index: 0, total: 2 });
    batch.progress({ event: 'file_started', path: '/d/broken.pdf', index: 1, total: 2 });
    batch.resolve({
      files: [
        report('/d/locked.pdf', 'failed', { diagnostics: [{ code: 'encrypted', message: 'locked', page: null }] }),
        report('/d/broken.pdf', 'failed', { diagnostics: [{ code: 'corrupt', message: 'broken', page: null }] }),
      ],
    });
    await flush();
    const [locked, broken] = queue.ids();
    expect(queue.needsPassword(locked!)).toBe(true);
    expect(queue.needsPassword(broken!)).toBe(false);
    queue.unlock(locked!, 'pw');
    expect(unlocked).toEqual([['/d/locked.pdf', 'pw']]);
    retry.resolve({ files: [report('/d/locked.pdf', 'indexed')] });
    await flush();
    expect(queue.row(locked!)!.status).toBe('indexed');
  });
});
