// The UI in a real browser against a real server: Debian's Chromium, driven by playwright-core,
// on `doctalk serve` (built binary, real embedding model, a fresh data directory) serving ui/dist.
//
// Environment: DOCTALK_BIN (the built binary), DOCTALK_MODELS_DIR, CHROMIUM (default
// /usr/bin/chromium), DOCTALK_E2E_ARTIFACTS (screenshots; default target/e2e-artifacts).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, openSync, ftruncateSync, closeSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';
import { cleanup, hangIfAsked, reapAll, spawnOwned } from './procs.mjs';

const repo = resolve(import.meta.dirname, '../..');
const artifacts = process.env.DOCTALK_E2E_ARTIFACTS ?? join(repo, 'target/e2e-artifacts');
const bin = process.env.DOCTALK_BIN;
assert.ok(bin, 'DOCTALK_BIN must name the built doctalk binary');
mkdirSync(artifacts, { recursive: true });

const scratch = mkdtempSync(join(tmpdir(), 'doctalk-e2e-'));
let server;
let browser;
let base;

/** Starts `doctalk serve` on a free loopback port and waits for its "listening on" line. */
async function startServer() {
  const child = spawnOwned(
    bin,
    ['serve', '--bind', '127.0.0.1:0', '--no-llm', '--max-upload-mib', '64', '--ui-dir', join(repo, 'ui/dist')],
    {
      env: { ...process.env, DOCTALK_DATA_DIR: join(scratch, 'data'), RUST_LOG: 'warn' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise((ok, fail) => {
    lines.once('line', ok);
    child.once('exit', (code) => fail(new Error(`doctalk serve exited with ${code}`)));
  });
  const m = /^listening on (http:\/\/\S+)$/.exec(first);
  assert.ok(m, `unexpected first line ${first}`);
  return { child, url: m[1] };
}

before(async () => {
  ({ child: server, url: base } = await startServer());
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    // The machine has no network: keep Chromium from trying to reach Google at start.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      // The microphone is a real recording played in a loop (the spoken-question test).
      '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${join(repo, 'tests/fixtures/audio/en_goforward_16k.wav')}`],
  });
}, { timeout: 120_000 });

// Every test is bounded (node's --test-timeout in package.json is the outer bound); when one times
// out its own clean-up never runs, so this hook ends whatever the suite started.
const LIMIT = { timeout: Number(process.env.DOCTALK_E2E_TEST_TIMEOUT_MS ?? 180_000) };

after(async () => {
  await cleanup(
    () => Promise.race([browser?.close(), new Promise((ok) => setTimeout(ok, 10_000))]),
    () => reapAll(),
    () => rmSync(scratch, { recursive: true, force: true }),
  );
});

/** A fresh page in English with every console error and page error collected. */
async function openPage() {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(base);
  return { page, errors, context };
}

const shot = (page, name) => page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });

test('upload a PDF, ask, read the streamed answer, open the cited page with the passage highlighted', LIMIT, async () => {
  const { page, errors, context } = await openPage();
  await hangIfAsked('upload a PDF');
  await page.getByTestId('sample-button').waitFor();
  await shot(page, '01-first-run');

  await page.getByTestId('file-input').setInputFiles(join(repo, 'examples/sample-kb/员工手册.pdf'));
  // The row follows the file through parse, embed and commit, and ends indexed.
  const row = page.locator('[data-testid="upload-row"][data-name="员工手册.pdf"]');
  const seen = new Set();
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const status = await row.getAttribute('data-status').catch(() => null);
    if (status) seen.add(status);
    if (status === 'indexed' || status === 'failed') break;
    await page.waitForTimeout(25);
  }
  assert.ok(seen.has('indexed'), `ended indexed: ${[...seen]}`);
  assert.ok(['parse', 'embed', 'commit'].some((s) => seen.has(s)), `showed progress: ${[...seen]}`);
  await page.locator('[data-testid="doc-row"]').first().waitFor();
  await shot(page, '02-uploaded');

  await page.getByTestId('composer').fill('境外出差要提前几个工作日申请');
  await page.getByTestId('composer').press('Enter');
  const answer = page.getByTestId('message-assistant').last();
  await page.locator('[data-testid="message-assistant"][data-state="done"]').waitFor({ timeout: 60_000 });
  const text = await answer.innerText();
  assert.match(text, /15个工作日/, `the answer holds the rule: ${text}`);
  await shot(page, '03-answer');

  // The first source's page, as the sources list shows it, is where its chip must open the PDF.
  const firstSource = await answer.getByTestId('source-item').first().innerText();
  const citedPage = Number(/page (\d+)/.exec(firstSource)?.[1]);
  assert.ok(citedPage >= 2, `a cited page: ${firstSource}`);
  await answer.getByTestId('citation').first().click();
  const viewer = page.locator('[data-testid="pdf-viewer"][data-ready="true"]');
  await viewer.waitFor({ timeout: 60_000 });
  assert.equal(Number(await viewer.getAttribute('data-page')), citedPage);
  const highlighted = (await viewer.locator('.highlight').allInnerTexts()).join('');
  assert.ok(highlighted.replace(/\s/g, '').length > 20, `the cited passage is highlighted: ${highlighted}`);
  await shot(page, '04-cited-page');
  assert.deepEqual(errors, []);
  await context.close();
});

test('check answers: questions with their facts are asked of the knowledge base and scored', LIMIT, async () => {
  const { page, errors, context } = await openPage();
  await hangIfAsked('check answers');
  // The handbook is in the knowledge base (the upload test may have put it there already: then it is
  // reported unchanged).
  const pdf = readFileSync(join(repo, 'examples/sample-kb/员工手册.pdf'));
  const ingest = await page.request.post(`${base}/api/ingest?name=${encodeURIComponent('员工手册.pdf')}`, { data: pdf });
  assert.equal(ingest.status(), 200);
  assert.match(await ingest.text(), /event: done/);

  await page.getByTestId('check-button').click();
  const dialog = page.getByTestId('check-dialog');
  await dialog.waitFor();
  // A question file with a broken line: the server names the line.
  await page.getByTestId('check-questions').fill('{"q": "午休几点？", "expect_any": ["12点"]}\n{"q": "no facts"}');
  await page.getByTestId('check-run').click();
  await page.getByTestId('check-problem').waitFor({ timeout: 30_000 });
  assert.match(await page.getByTestId('check-problem').innerText(), /line 2/);

  await page.getByTestId('check-questions').fill('境外出差要提前几个工作日申请？ | 15个工作日\n公司有没有上下班的班车？ | -');
  await page.getByTestId('check-run').click();
  await page.getByTestId('check-report').waitFor({ timeout: 120_000 });
  // The server runs without a model (--no-llm): the extractive column only, and it says why not.
  assert.equal(await page.getByTestId('check-extractive-checkFactCitation').innerText(), '100%');
  assert.match(await page.getByTestId('check-extractive-checkRefusals').innerText(), /^(0|100)%$/);
  assert.equal(await page.getByTestId('check-llm-checkFactCitation').count(), 0);
  assert.match(await page.getByTestId('check-report').innerText(), /language model was not measured/);
  const rows = page.getByTestId('check-question');
  assert.equal(await rows.count(), 2);
  // Each answer opens to show what was said and which page it cites.
  await rows.first().locator('summary').click();
  assert.match(await rows.first().innerText(), /15个工作日[\s\S]*员工手册\.pdf p\.\d+/);
  await shot(page, '05-check-answers');
  assert.deepEqual(errors.filter((e) => !/Failed to load resource/.test(e)), []);
  await context.close();
});

test('bad files get their own clear errors and nothing else is lost', LIMIT, async () => {
  const { page, errors, context } = await openPage();
  const dir = join(scratch, 'bad');
  mkdirSync(dir, { recursive: true });
  const empty = join(dir, 'empty.pdf');
  writeFileSync(empty, '');
  const binary = join(dir, 'photo.png');
  writeFileSync(binary, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]));
  // 500 MB without writing 500 MB: a sparse file, above the server's 64 MiB limit in this test.
  const huge = join(dir, 'huge.pdf');
  const fd = openSync(huge, 'w');
  ftruncateSync(fd, 500 * 1024 * 1024);
  closeSync(fd);
  const good = join(dir, 'notes.md');
  writeFileSync(good, '# Parking\n\nUnderground parking is on level B2 and costs 300 per month.\n');

  await page.getByTestId('file-input').setInputFiles([empty, binary, huge, good]);
  const row = (name, status) => page.locator(`[data-testid="upload-row"][data-name="${name}"][data-status="${status}"]`);
  await row('notes.md', 'indexed').waitFor({ timeout: 120_000 });
  for (const name of ['empty.pdf', 'photo.png', 'huge.pdf']) {
    await row(name, 'failed').waitFor({ timeout: 120_000 });
    const why = await row(name, 'failed').getByTestId('upload-error').first().innerText();
    assert.ok(why.trim().length > 5, `${name} says why: ${why}`);
  }
  const hugeWhy = await row('huge.pdf', 'failed').innerText();
  assert.match(hugeWhy, /large|MB|MiB/i, hugeWhy);
  await shot(page, '05-bad-files');
  // The window still answers while and after those failed.
  await page.getByTestId('composer').fill('Where is the underground parking?');
  await page.getByTestId('send-button').click();
  await page.locator('[data-testid="message-assistant"][data-state="done"]').waitFor({ timeout: 60_000 });
  assert.match(await page.getByTestId('message-assistant').last().innerText(), /B2/);
  assert.deepEqual(errors.filter((e) => !/Failed to load resource/.test(e)), []);
  await context.close();
});

test('a folder of 1,000 files: documents indexed, the rest skipped and counted, the window stays responsive', LIMIT, async () => {
  const { page, errors, context } = await openPage();
  const folder = join(scratch, 'export');
  mkdirSync(folder, { recursive: true });
  const notes = 40;
  for (let i = 0; i < 1000; i++) {
    if (i < notes) {
      writeFileSync(join(folder, `note-${i}.md`), `# Note ${i}\n\nRoom ${i} has ${i + 3} chairs.\n`);
    } else {
      // Not a document type (pictures of pages are: they are read by OCR).
      writeFileSync(join(folder, `clip-${i}.mp4`), Buffer.from([0x00, 0x00, 0x00, 0x18, i & 0xff]));
    }
  }
  // The longest gap between animation frames while the folder is taken in: the window's worst stall.
  await page.evaluate(() => {
    window.__worstFrameGap = 0;
    let last = performance.now();
    const tick = (now) => {
      window.__worstFrameGap = Math.max(window.__worstFrameGap, now - last);
      last = now;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  await page.getByTestId('folder-input').setInputFiles(folder);
  await page.getByText(/960 files skipped/).waitFor({ timeout: 30_000 });
  const indexed = page.locator('[data-testid="upload-row"][data-status="indexed"][data-name^="note-"]');
  const deadline = Date.now() + 300_000;
  while ((await indexed.count()) < notes && Date.now() < deadline) await page.waitForTimeout(500);
  assert.equal(await indexed.count(), notes);
  const worst = await page.evaluate(() => window.__worstFrameGap);
  console.log(`worst frame gap while ingesting the folder: ${Math.round(worst)} ms`);
  assert.ok(worst < 2000, `the window stalled for ${worst} ms`);
  await shot(page, '06-folder-of-1000');
  const docs = await (await fetch(`${base}/api/documents`)).json();
  assert.equal(docs.filter((d) => /note-\d+\.md$/.test(d.path)).length, notes, 'nothing lost');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a watched folder follows its files: added, then changed on disk, then asked about alone', LIMIT, async () => {
  const { page, errors, context } = await openPage();
  const folder = join(scratch, 'watched');
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'canteen.md'), '# Canteen\n\nThe canteen on floor 3 opens at 11:30 for lunch.\n');
  await page.getByTestId('watch-folder').click();
  await page.getByTestId('watch-path').fill(folder);
  await page.getByTestId('watch-start').click();
  const row = page.getByTestId('watched-folder');
  await row.filter({ hasText: '1 indexed' }).waitFor({ timeout: 60_000 });

  // A new file and a change made on disk are picked up by the server's watcher, no click needed.
  writeFileSync(join(folder, 'shuttle.md'), '# Shuttle\n\nThe shuttle bus leaves the north gate at 18:10.\n');
  writeFileSync(join(folder, 'canteen.md'), '# Canteen\n\nThe canteen on floor 3 opens at 11:45 for lunch.\n');
  await row.filter({ hasText: '2 indexed' }).waitFor({ timeout: 60_000 });
  const deadline = Date.now() + 60_000;
  let canteen;
  while (Date.now() < deadline) {
    const hits = await (await fetch(`${base}/api/search?q=${encodeURIComponent('canteen opening time')}&k=1`)).json();
    canteen = hits[0]?.text ?? '';
    if (canteen.includes('11:45')) break;
    await page.waitForTimeout(500);
  }
  assert.match(canteen, /11:45/, 'the changed file replaced its old version');
  await shot(page, '07-watched-folder');

  // "Ask this folder": the question keeps to the folder's documents.
  await page.getByTestId('watch-ask').click();
  await page.getByTestId('scope-folder').waitFor();
  await page.getByTestId('composer').fill('When does the shuttle bus leave?');
  await page.getByTestId('send-button').click();
  await page.locator('[data-testid="message-assistant"][data-state="done"]').last().waitFor({ timeout: 60_000 });
  assert.match(await page.getByTestId('message-assistant').last().innerText(), /18:10/);
  assert.deepEqual(errors.filter((e) => !/Failed to load resource/.test(e)), []);
  await context.close();
});

test('a voice cloned from a recording in the settings reads answers aloud', LIMIT, async () => {
  const { page, errors, context } = await openPage();
  await page.getByTestId('settings-button').click();
  await page.getByText('Clone a voice…').click();
  await page.getByTestId('voice-name').fill('reader');
  await page.getByTestId('voice-sample').setInputFiles(join(repo, 'tests/fixtures/audio/en_librivox_0870_16k.wav'));
  assert.equal(await page.getByTestId('voice-create').isDisabled(), true, 'consent is required');
  await page.getByTestId('voice-consent').fill('LibriVox reader, public-domain recording (test)');
  await page.getByTestId('voice-create').click();
  await page.getByText(/Added the voice reader/).waitFor({ timeout: 120_000 });
  const listed = page.getByTestId('cloned-voice');
  await listed.waitFor();
  assert.match(await listed.innerText(), /reader/);
  // It became the voice that reads answers: saved, and the server speaks with it.
  await shot(page, '07-cloned-voice');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByTestId('settings-dialog').waitFor({ state: 'detached' });
  const settings = await (await fetch(`${base}/api/settings`)).json();
  assert.deepEqual(settings.voice, { enabled: true, voice: 'reader' });
  const spoken = await fetch(`${base}/api/speak`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: 'Hello there.' }),
  });
  assert.equal(spoken.status, 200);
  assert.equal(spoken.headers.get('content-type'), 'audio/wav');
  assert.ok((await spoken.arrayBuffer()).byteLength > 22050, 'about a second of speech or more');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a question spoken into the microphone is written down, asked and answered', LIMIT, async () => {
  const { page, errors, context } = await openPage();
  await context.grantPermissions(['microphone']);
  const mic = page.getByTestId('mic-button');
  await mic.click();
  await page.locator('[data-testid="mic-button"][data-state="listening"]').waitFor();
  // The fake microphone plays "go forward ten meters" in a loop: finish after one pass or so
  // (or the pause detector finishes first, between two passes).
  await page.waitForTimeout(2500);
  if ((await mic.getAttribute('data-state')) === 'listening') await mic.click();
  const question = page.getByTestId('message-user').last();
  await question.waitFor({ timeout: 60_000 });
  assert.match((await question.innerText()).toLowerCase(), /forward/);
  await page.locator('[data-testid="message-assistant"][data-state="done"]').waitFor({ timeout: 60_000 });
  await shot(page, '08-spoken-question');
  assert.deepEqual(errors, []);
  await context.close();
});

// Last: it switches the server's model to a tiny random Qwen2 (models/gen/lora_tiny.py) and adds an
// FAQ export of made-up words to the knowledge base.
test('train on the knowledge base: the estimate, the run, base against tuned, then the adapter in use', LIMIT, async () => {
  const { page, errors, context } = await openPage();
  await hangIfAsked('train');
  const lora = join(repo, 'crates/doctalk-models/tests/fixtures/lora/qwen2');
  const faq = readFileSync(join(lora, 'faq.csv'));
  const ingest = await page.request.post(`${base}/api/ingest?name=faq.csv`, { data: faq });
  assert.equal(ingest.status(), 200);
  assert.match(await ingest.text(), /event: done/);
  const model = { kind: 'local', path: join(lora, 'base/model.gguf') };
  const chosen = await page.request.put(`${base}/api/settings`, { data: { model } });
  assert.equal(chosen.status(), 200);

  await page.getByTestId('train-button').click();
  await page.getByTestId('train-dialog').waitFor();
  const estimate = page.getByTestId('train-estimate');
  await estimate.waitFor({ timeout: 60_000 });
  assert.match(await estimate.innerText(), /About (under a minute|\d+:\d\d) on this computer \(21 steps, \d+ tokens a second\)/);
  assert.match(await page.getByTestId('train-plan').innerText(), /8 question–answer pairs: 7 to train on, 1 held out/);
  await shot(page, '09-train-estimate');
  await page.getByTestId('train-start').click();
  await page.getByTestId('train-outcome').waitFor({ timeout: 120_000 });
  assert.match(await page.getByTestId('train-loss').innerText(), /Held-out loss \d+\.\d{3} → \d+\.\d{3}/);
  assert.match(await page.getByTestId('train-base-exact').innerText(), /^[01]$/);
  assert.equal(await page.getByTestId('train-answer').count(), 1);
  await shot(page, '10-train-outcome');
  await page.getByTestId('train-use').click();
  await page.locator('[data-testid="train-use"][disabled]').waitFor();
  const settings = await (await page.request.get(`${base}/api/settings`)).json();
  assert.equal(settings.model.adapter, 'default-tuned');
  assert.ok(settings.adapters.some((a) => a.name === 'default-tuned' && a.error === null), JSON.stringify(settings.adapters));
  assert.deepEqual(errors, []);
  await context.close();
});
