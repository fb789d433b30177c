// Every process an end-to-end suite causes is owned by it and gone when it ends, even when a test
// hangs or a driver forgets its own children (the desktop app outliving WebKitWebDriver once hung
// CI until its 90-minute limit).
//
// Three nets, each catching what the one before can miss:
//  1. `spawnOwned` starts each child in a process group of its own (detached) and `reapAll` ends
//     the group: SIGTERM, a grace period, then SIGKILL.
//  2. The desktop app, under automation, asks the kernel to kill it when its parent dies
//     (PR_SET_PDEATHSIG, see src-tauri) and writes its pid where DOCTALK_PID_DIR says.
//  3. A run mark: this module puts DOCTALK_E2E_RUN=<unique> into the environment every child
//     inherits, and `reapAll` finally kills any process whose environment carries it (read from
//     /proc), whatever became of its parent or its process group.
//
// `reapAll` never throws: an `after` hook that calls it cannot stop the next hook from running.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

// The suite's own mark, new for every run: only this process's descendants carry it. (The stage of
// scripts/test.sh that runs the suite marks its whole tree, this process's parents included, with
// a variable of its own, DOCTALK_STAGE_RUN.)
export const RUN_MARK = `e2e-${process.pid}-${randomBytes(4).toString('hex')}`;
process.env.DOCTALK_E2E_RUN = RUN_MARK;

/** Where owned desktop apps write their pid files (DOCTALK_PID_DIR). */
export const PID_DIR = mkdtempSync(join(tmpdir(), 'doctalk-pids-'));
process.env.DOCTALK_PID_DIR = PID_DIR;

const owned = new Set();

/** `spawn`, in a new process group that `reapAll` ends as a whole. */
export function spawnOwned(command, args, options = {}) {
  const child = spawn(command, args, { ...options, detached: true });
  owned.add(child);
  child.once('exit', () => owned.delete(child));
  return child;
}

/** Signals a child's whole process group (ignoring groups already gone). */
function signalGroup(child, signal) {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: the group is gone.
  }
}

/** Ends one owned child's process group: SIGTERM, up to `graceMs` to exit, then SIGKILL. */
export async function endGroup(child, graceMs = 5000) {
  if (!child || child.pid === undefined) return;
  signalGroup(child, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (child.exitCode === null && child.signalCode === null && Date.now() < deadline) await sleep(50);
  signalGroup(child, 'SIGKILL');
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// Killed from outside (a stage's time-out sends SIGTERM to its process group, which the owned
// children left by starting groups of their own): end them before going, synchronously.
// Prepended: node's test runner has its own handler that exits at once, and it is installed first.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.prependOnceListener(signal, () => {
    console.error(`# ${signal}: ending every process this suite started`);
    for (const child of owned) signalGroup(child, 'SIGKILL');
    for (const p of marked()) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGHUP' ? 1 : 15));
  });
}

/** This process and its ancestors: never to be killed by the sweep, whatever they carry. */
function selfAndAncestors() {
  const pids = new Set();
  let pid = process.pid;
  while (pid > 1 && !pids.has(pid)) {
    pids.add(pid);
    try {
      // /proc/PID/stat: "pid (comm) state ppid …"; comm may hold spaces and parentheses.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      break;
    }
  }
  return pids;
}

/** Processes (other than this one and its ancestors) carrying the run mark: `{pid, name}`. */
export function marked() {
  const needle = Buffer.from(`DOCTALK_E2E_RUN=${RUN_MARK}\0`);
  const keep = selfAndAncestors();
  const found = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || keep.has(Number(entry))) continue;
    try {
      const env = readFileSync(`/proc/${entry}/environ`);
      if (env.indexOf(needle) === -1) continue;
      const name = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      const state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1];
      if (state === 'Z') continue; // a zombie is dead; its parent only has to reap it
      found.push({ pid: Number(entry), name });
    } catch {
      // The process ended while we looked, or is not ours to read.
    }
  }
  return found;
}

/** Pids written by desktop apps this run started. */
function pidFiles() {
  try {
    return readdirSync(PID_DIR)
      .map((f) => Number(readFileSync(join(PID_DIR, f), 'utf8').trim()))
      .filter((pid) => Number.isInteger(pid) && pid > 0);
  } catch {
    return [];
  }
}

/**
 * Ends every process this suite caused. Returns the ones that were still alive when the groups
 * had been ended (`[{pid, name}]`): each of those escaped nets 1 and 2, and is named in the log.
 */
export async function reapAll({ graceMs = 3000 } = {}) {
  try {
    for (const child of owned) signalGroup(child, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (owned.size > 0 && Date.now() < deadline) await sleep(50);
    for (const child of owned) signalGroup(child, 'SIGKILL');
    for (const pid of pidFiles()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await sleep(200);
    const escaped = marked();
    for (const p of escaped) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (let i = 0; i < 50 && escaped.some((p) => alive(p.pid)); i++) await sleep(100);
    if (escaped.length > 0) {
      console.error(`# reaped processes that outlived their owners: ${escaped.map((p) => `${p.name}(${p.pid})`).join(', ')}`);
    }
    rmSync(PID_DIR, { recursive: true, force: true });
    return escaped;
  } catch (e) {
    console.error(`# reapAll: ${e}`);
    return [];
  }
}

/**
 * A test that never ends, for checking the suite's time-outs: when DOCTALK_E2E_HANG names this
 * test (a substring of its name), wait forever. Used only by scripts/check-e2e-hang.sh.
 */
export async function hangIfAsked(testName) {
  const asked = process.env.DOCTALK_E2E_HANG;
  if (asked && testName.includes(asked)) {
    console.error(`# DOCTALK_E2E_HANG: "${testName}" now waits forever`);
    await new Promise(() => setInterval(() => {}, 1 << 30));
  }
}

/** Runs each cleanup step even when an earlier one throws; reports failures without throwing. */
export async function cleanup(...steps) {
  for (const step of steps) {
    try {
      await step();
    } catch (e) {
      console.error(`# cleanup step failed: ${e}`);
    }
  }
}
