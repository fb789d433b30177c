// The desktop app's real window: the debug build of `doctalk-desktop` under Xvfb, driven over
// WebDriver by tauri-driver (crates.io) in front of Debian's WebKitWebDriver. The protocol is
// spoken with plain fetch: a handful of W3C WebDriver endpoints is all this needs.
//
// Environment: DOCTALK_DESKTOP_BIN (the built app), DOCTALK_MODELS_DIR, TAURI_DRIVER (default
// /var/cache/doctalk-tools/bin/tauri-driver), DOCTALK_E2E_ARTIFACTS (screenshots). Needs a display
// (run under `xvfb-run -a`).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cleanup, endGroup, hangIfAsked, reapAll, spawnOwned } from './procs.mjs';

const repo = resolve(import.meta.dirname, '../..');
const app = process.env.DOCTALK_DESKTOP_BIN;
assert.ok(app, 'DOCTALK_DESKTOP_BIN must name the built desktop app');
const artifacts = process.env.DOCTALK_E2E_ARTIFACTS ?? join(repo, 'target/e2e-artifacts');
mkdirSync(artifacts, { recursive: true });
const scratch = mkdtempSync(join(tmpdir(), 'doctalk-desktop-'));
const ELEMENT = 'element-6066-11e4-a07c-4e9a2c7e6e6b';

/** One app window: its own tauri-driver (and so its own environment for the app), one session. */
class AppWindow {
  static async launch(env, cwd) {
    // Both ports free right now, chosen by the kernel: WebKitWebDriver's default (4445) is shared by
    // every run on the machine, and a random one can collide with it (a stress round once did).
    const [port, nativePort] = await Promise.all([freePort(), freePort()]);
    const w = new AppWindow(`http://127.0.0.1:${port}`);
    const bin = process.env.TAURI_DRIVER ?? '/var/cache/doctalk-tools/bin/tauri-driver';
    // The app inherits this environment (and working directory) through WebKitWebDriver.
    // Its own process group: closing the window ends tauri-driver, WebKitWebDriver and the app.
    w.driver = spawnOwned(
      bin,
      ['--port', String(port), '--native-port', String(nativePort), '--native-driver', '/usr/bin/WebKitWebDriver'],
      { env: { ...process.env, RUST_LOG: 'warn', ...env }, cwd, stdio: ['ignore', 'inherit', 'inherit'] },
    );
    try {
      for (let i = 0; i < 100; i++) {
        try {
          await fetch(`${w.url}/status`);
          break;
        } catch {
          await sleep(100);
        }
      }
      w.launched = Date.now();
      const created = await w.wd('POST', '/session', {
        capabilities: { alwaysMatch: { 'tauri:options': { application: app } } },
      });
      w.session = created.sessionId;
      return w;
    } catch (e) {
      // The caller never gets a window to close: end the driver here, not at the end of the suite.
      await endGroup(w.driver);
      throw e;
    }
  }

  constructor(url) {
    this.url = url;
  }

  async wd(method, path, body) {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${path}: ${JSON.stringify(json.value ?? json)}`);
    return json.value;
  }

  s(path) {
    return `/session/${this.session}${path}`;
  }

  /** Polls for an element matching `css` until `timeout` ms pass. */
  async waitFor(css, timeout = 60_000) {
    const deadline = Date.now() + timeout;
    let last;
    while (Date.now() < deadline) {
      try {
        const found = await this.wd('POST', this.s('/element'), { using: 'css selector', value: css });
        // WebKitWebDriver names the key differently from the W3C constant: take the only value.
        return found[ELEMENT] ?? Object.values(found)[0];
      } catch (e) {
        last = e;
        await sleep(200);
      }
    }
    throw new Error(`no ${css} after ${timeout} ms: ${last}`);
  }

  async all(css) {
    const found = await this.wd('POST', this.s('/elements'), { using: 'css selector', value: css });
    return found.map((f) => f[ELEMENT] ?? Object.values(f)[0]);
  }

  text(el) {
    return this.wd('GET', this.s(`/element/${el}/text`));
  }

  async click(css) {
    await this.wd('POST', this.s(`/element/${await this.waitFor(css)}/click`), {});
  }

  async type(el, text) {
    await this.wd('POST', this.s(`/element/${el}/value`), { text, value: [...text] });
  }

  async screenshot(name) {
    // WebKitGTK under Xvfb paints a moment after the DOM changes: without this the picture shows
    // the previous state (or a blank window).
    await sleep(750);
    const png = await this.wd('GET', this.s('/screenshot'));
    writeFileSync(join(artifacts, `${name}.png`), Buffer.from(png, 'base64'));
  }

  /** Ends the session, then the driver's whole process group (the app included); never throws. */
  async close() {
    if (this.session) {
      await Promise.race([this.wd('DELETE', this.s('')).catch(() => {}), sleep(10_000)]);
    }
    await endGroup(this.driver);
  }
}

/** A loopback port nobody listens on now. */
function freePort() {
  return new Promise((ok, fail) => {
    const probe = createNetServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => ok(port));
    });
  });
}

/**
 * A HuggingFace-hub stand-in on loopback: `HEAD|GET /{repo}/resolve/{rev}/{file}` with the hub's
 * ETag and X-Repo-Commit headers, serving `repos` ({repo: folder}); anything else is a 404.
 */
function startHub(repos) {
  const server = createServer((req, res) => {
    const m = /^\/(.+?\/.+?)\/resolve\/[^/]+\/(.+)$/.exec(decodeURIComponent(req.url ?? ''));
    const folder = m && repos[m[1]];
    if (!folder) {
      res.writeHead(404).end('not found');
      return;
    }
    let body;
    try {
      body = readFileSync(join(folder, m[2]));
    } catch {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, {
      etag: `"${createHash('sha256').update(body).digest('hex')}"`,
      'x-repo-commit': '0123456789abcdef0123456789abcdef01234567',
      'content-length': String(body.length),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  // Closing the stand-in ends its keep-alive connections too (a plain close() waits for them).
  const close = () => {
    server.closeAllConnections();
    server.close();
  };
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ server, close, port: () => server.address().port })));
}

// Every test is bounded (node's --test-timeout in package.json is the outer bound); when one times
// out its `finally` never runs, so this hook ends whatever it left.
const LIMIT = { timeout: Number(process.env.DOCTALK_E2E_TEST_TIMEOUT_MS ?? 240_000) };

after(async () => {
  await cleanup(
    () => reapAll(),
    () => rmSync(scratch, { recursive: true, force: true }),
  );
});

test('a first run without models shows the licences, downloads the encoder, and opens the app', LIMIT, async () => {
  const home = join(scratch, 'first-run');
  mkdirSync(join(home, 'models'), { recursive: true });
  const hub = await startHub({
    'intfloat/multilingual-e5-small': join(repo, 'crates/doctalk-models/tests/fixtures/e5/tiny-hf'),
  });
  const w = await AppWindow.launch(
    {
      DOCTALK_DATA_DIR: join(home, 'data'),
      DOCTALK_MODELS_DIR: join(home, 'models'),
      HF_HOME: join(home, 'hf'),
      HF_ENDPOINT: `http://127.0.0.1:${hub.port()}`,
    },
    home, // not the checkout: its .models/ would be found
  );
  try {
    await hangIfAsked('first run');
    await w.waitFor('[data-testid="setup-screen"]');
    const licences = await Promise.all((await w.all('[data-testid="setup-licence"]')).map((el) => w.text(el)));
    assert.equal(licences.length, 2, licences.join(' | '));
    assert.match(licences[0], /MIT/);
    assert.match(licences[1], /Apache-2\.0/);
    await w.screenshot('desktop-00-setup');

    // The encoder comes from the hub stand-in; the recommended model is not there (404), which
    // is reported, and the app can start without it.
    await w.click('[data-testid="setup-download"]');
    await w.waitFor('[data-testid="setup-model"][data-model-id="multilingual-e5-small"][data-installed="true"]', 60_000);
    const failed = await w.text(await w.waitFor('[data-testid="setup-error"]'));
    assert.match(failed, /404|not found/i, failed);
    await w.screenshot('desktop-00-setup-downloaded');
    await w.click('[data-testid="setup-start"]');
    // The engine starts on the downloaded encoder: the empty library offers the sample.
    await w.waitFor('[data-testid="sample-button"]', 60_000);
  } finally {
    await cleanup(() => w.close(), () => hub.close());
  }
});

test('the desktop window opens, takes a document, and answers from it', LIMIT, async () => {
  const w = await AppWindow.launch({ DOCTALK_DATA_DIR: join(scratch, 'data') }, repo);
  try {
    assert.equal(await w.wd('GET', w.s('/title')), 'DocTalk');
    await w.waitFor('[data-testid="drop-zone"]');
    // Launch → a window whose UI can be used (the engine may still be loading behind it).
    console.log(`interactive window ${Date.now() - w.launched} ms after launch`);
    await w.screenshot('desktop-01-first-run');
    // The window listens for drag-and-drop events: a capability the app must have been built with
    // (a missing one shows up as an "event.listen not allowed" toast).
    const toasts = await Promise.all((await w.all('[data-testid="toast"]')).map((el) => w.text(el)));
    assert.ok(!toasts.some((t) => /not allowed/.test(t)), toasts.join(' | '));

    // A document through the file picker: WebKitWebDriver types the path into the file input.
    const note = join(scratch, 'parking.md');
    writeFileSync(note, '# Parking\n\nUnderground parking is on level B2 and costs 300 per month.\n');
    await w.type(await w.waitFor('[data-testid="file-input"]'), note);
    await w.waitFor('[data-testid="upload-row"][data-status="indexed"]', 120_000);
    await w.waitFor('[data-testid="doc-row"]');
    await w.screenshot('desktop-02-document-added');

    await w.type(await w.waitFor('[data-testid="composer"]'), 'Where is the underground parking?');
    await w.click('[data-testid="send-button"]');
    const done = await w.waitFor('[data-testid="message-assistant"][data-state="done"]', 120_000);
    const answer = await w.text(done);
    assert.match(answer, /B2/, answer);
    await w.screenshot('desktop-03-answer');
  } finally {
    await w.close();
  }
});

test('a voice cloned in the desktop window from a picked recording', LIMIT, async () => {
  const w = await AppWindow.launch({ DOCTALK_DATA_DIR: join(scratch, 'data-voice') }, repo);
  try {
    await w.waitFor('[data-testid="drop-zone"]');
    await w.click('[data-testid="settings-button"]');
    await w.click('[data-testid="voice-cloner"] summary');
    await w.type(await w.waitFor('[data-testid="voice-name"]'), 'reader');
    // The recording goes over Tauri's IPC as a raw body with its arguments as headers.
    await w.type(
      await w.waitFor('[data-testid="voice-sample"]'),
      join(repo, 'tests/fixtures/audio/en_librivox_0870_16k.wav'),
    );
    await w.type(await w.waitFor('[data-testid="voice-consent"]'), 'LibriVox reader, public-domain recording (test)');
    await w.click('[data-testid="voice-create"]');
    const listed = await w.waitFor('[data-testid="cloned-voice"]', 120_000);
    assert.match(await w.text(listed), /reader/);
    await w.screenshot('desktop-04-cloned-voice');
    const error = await w.all('[data-testid="voice-error"]');
    assert.equal(error.length, 0, 'no error shown');
  } finally {
    await w.close();
  }
});

test('the desktop app trains an adapter on its knowledge base and switches answers to it', LIMIT, async () => {
  // The settings choose a tiny random Qwen2 (models/gen/lora_tiny.py): the run takes seconds.
  const data = join(scratch, 'data-train');
  mkdirSync(data, { recursive: true });
  const lora = join(repo, 'crates/doctalk-models/tests/fixtures/lora/qwen2');
  writeFileSync(join(data, 'settings.json'), JSON.stringify({ model: { kind: 'local', path: join(lora, 'base/model.gguf') } }));
  const w = await AppWindow.launch({ DOCTALK_DATA_DIR: data }, repo);
  try {
    await w.waitFor('[data-testid="drop-zone"]');
    // Nothing to train on yet: the estimate's refusal reaches the dialog over IPC.
    await w.click('[data-testid="train-button"]');
    const refused = await w.waitFor('[data-testid="train-problem"]', 60_000);
    assert.match(await w.text(refused), /no question–answer pairs/);
    await w.click('[data-testid="train-close"]');

    await w.type(await w.waitFor('[data-testid="file-input"]'), join(lora, 'faq.csv'));
    await w.waitFor('[data-testid="upload-row"][data-status="indexed"]', 120_000);
    await w.click('[data-testid="train-button"]');
    const estimate = await w.waitFor('[data-testid="train-estimate"]', 60_000);
    assert.match(await w.text(estimate), /21 steps/);
    await w.click('[data-testid="train-start"]');
    await w.waitFor('[data-testid="train-outcome"]', 120_000);
    await w.screenshot('desktop-05-trained');
    await w.click('[data-testid="train-use"]');
    await w.waitFor('[data-testid="train-use"][disabled]', 30_000);
    const settings = JSON.parse(readFileSync(join(data, 'settings.json'), 'utf8'));
    assert.equal(settings.model.adapter, 'default-tuned');
    assert.ok(existsSync(join(data, 'adapters/default-tuned/adapter_model.safetensors')));
  } finally {
    await w.close();
  }
});

/**
 * A private PulseAudio daemon (the machine has no sound card): a null sink that plays in real time,
 * and its monitor as the default source, so the app's "microphone" hears what is played into it.
 */
async function startPulse() {
  const dir = mkdtempSync(join(tmpdir(), 'doctalk-pulse-'));
  const socket = join(dir, 'native');
  const config = join(dir, 'default.pa');
  writeFileSync(
    config,
    'load-module module-null-sink sink_name=doctalk_e2e\n' +
      'set-default-sink doctalk_e2e\n' +
      'set-default-source doctalk_e2e.monitor\n' +
      `load-module module-native-protocol-unix socket=${socket} auth-anonymous=1\n`,
  );
  const child = spawnOwned(
    'pulseaudio',
    ['-n', '-F', config, '--daemonize=no', '--exit-idle-time=-1', '--use-pid-file=no'],
    { env: { ...process.env, HOME: dir, XDG_RUNTIME_DIR: dir }, stdio: 'ignore' },
  );
  for (let i = 0; i < 200 && !existsSync(socket); i++) await sleep(50);
  assert.ok(existsSync(socket), 'the PulseAudio socket');
  const stop = async () => {
    await endGroup(child);
    rmSync(dir, { recursive: true, force: true });
  };
  return { server: `unix:${socket}`, stop };
}

test('a question spoken to the desktop app is heard by its microphone, asked and answered', LIMIT, async () => {
  const pulse = await startPulse();
  const w = await AppWindow.launch({ DOCTALK_DATA_DIR: join(scratch, 'data-mic'), PULSE_SERVER: pulse.server }, repo);
  try {
    await w.waitFor('[data-testid="drop-zone"]');
    await w.click('[data-testid="mic-button"]');
    await w.waitFor('[data-testid="mic-button"][data-state="listening"]', 60_000);
    // Someone asks: the recording is played into the sound server the microphone listens to.
    const played = spawnSync('paplay', [join(repo, 'tests/fixtures/audio/en_goforward_16k.wav')], {
      env: { ...process.env, PULSE_SERVER: pulse.server },
    });
    assert.equal(played.status, 0, String(played.stderr));
    const question = await w.waitFor('[data-testid="message-user"]', 60_000);
    assert.match((await w.text(question)).toLowerCase(), /forward/);
    await w.waitFor('[data-testid="message-assistant"][data-state="done"]', 60_000);
    await w.screenshot('desktop-05-spoken-question');
  } finally {
    await cleanup(() => w.close(), () => pulse.stop());
  }
});
