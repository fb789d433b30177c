// The desktop app's real window: the debug build of `doctalk-desktop` under Xvfb, driven over
// WebDriver by tauri-driver (crates.io) in front of Debian's WebKitWebDriver. The protocol is
// spoken with plain fetch: a handful of W3C WebDriver endpoints is all this needs.
//
// Environment: DOCTALK_DESKTOP_BIN (the built app), DOCTALK_MODELS_DIR, TAURI_DRIVER (default
// /var/cache/doctalk-tools/bin/tauri-driver), DOCTALK_E2E_ARTIFACTS (screenshots). Needs a display
// (run under `xvfb-run -a`).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const repo = resolve(import.meta.dirname, '../..');
const app = process.env.DOCTALK_DESKTOP_BIN;
assert.ok(app, 'DOCTALK_DESKTOP_BIN must name the built desktop app');
const artifacts = process.env.DOCTALK_E2E_ARTIFACTS ?? join(repo, 'target/e2e-artifacts');
mkdirSync(artifacts, { recursive: true });
const scratch = mkdtempSync(join(tmpdir(), 'doctalk-desktop-'));
const port = 4444 + Math.floor(Math.random() * 1000);
const driverUrl = `http://127.0.0.1:${port}`;
let driver;
let session;
let launched;

async function wd(method, path, body) {
  const res = await fetch(`${driverUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${JSON.stringify(json.value ?? json)}`);
  return json.value;
}

const s = (path) => `/session/${session}${path}`;
const ELEMENT = 'element-6066-11e4-a07c-4e9a2c7e6e6b';

/** Polls for an element matching `css` until `timeout` ms pass. */
async function waitFor(css, timeout = 60_000) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    try {
      const found = await wd('POST', s('/element'), { using: 'css selector', value: css });
      return found[ELEMENT] ?? Object.values(found)[0];
    } catch (e) {
      last = e;
      await sleep(200);
    }
  }
  throw new Error(`no ${css} after ${timeout} ms: ${last}`);
}

const text = async (el) => wd('GET', s(`/element/${el}/text`));
const screenshot = async (name) => {
  const png = await wd('GET', s('/screenshot'));
  writeFileSync(join(artifacts, `${name}.png`), Buffer.from(png, 'base64'));
};

before(async () => {
  const bin = process.env.TAURI_DRIVER ?? '/var/cache/doctalk-tools/bin/tauri-driver';
  driver = spawn(bin, ['--port', String(port), '--native-driver', '/usr/bin/WebKitWebDriver'], {
    // The app inherits this environment through WebKitWebDriver: a fresh data directory.
    env: { ...process.env, DOCTALK_DATA_DIR: join(scratch, 'data'), RUST_LOG: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`${driverUrl}/status`);
      break;
    } catch {
      await sleep(100);
    }
  }
  launched = Date.now();
  const created = await wd('POST', '/session', {
    capabilities: {
      alwaysMatch: {
        'tauri:options': { application: app },
      },
    },
  });
  session = created.sessionId;
});

after(async () => {
  if (session) await wd('DELETE', `/session/${session}`).catch(() => {});
  driver?.kill();
  rmSync(scratch, { recursive: true, force: true });
});

test('the desktop window opens, takes a document, and answers from it', async () => {
  assert.equal(await wd('GET', s('/title')), 'DocTalk');
  await waitFor('[data-testid="drop-zone"]');
  // Launch → a window whose UI can be used (the engine may still be loading behind it).
  console.log(`interactive window ${Date.now() - launched} ms after launch`);
  await screenshot('desktop-01-first-run');

  // A document through the file picker: WebKitWebDriver types the path into the file input.
  const note = join(scratch, 'parking.md');
  writeFileSync(note, '# Parking\n\nUnderground parking is on level B2 and costs 300 per month.\n');
  const input = await waitFor('[data-testid="file-input"]');
  await wd('POST', s(`/element/${input}/value`), { text: note, value: [...note] });
  await waitFor('[data-testid="upload-row"][data-status="indexed"]', 120_000);
  await waitFor('[data-testid="doc-row"]');
  await screenshot('desktop-02-document-added');

  const composer = await waitFor('[data-testid="composer"]');
  const question = 'Where is the underground parking?';
  await wd('POST', s(`/element/${composer}/value`), { text: question, value: [...question] });
  await wd('POST', s(`/element/${await waitFor('[data-testid="send-button"]')}/click`), {});
  const done = await waitFor('[data-testid="message-assistant"][data-state="done"]', 120_000);
  const answer = await text(done);
  assert.match(answer, /B2/, answer);
  await screenshot('desktop-03-answer');
});
