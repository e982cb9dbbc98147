// Drives the real `hotline` binary for the browser tests: parties in fresh
// temp dirs, served nodes on loopback, federation and agreements exactly as
// the Rust CLI tests do it (crates/hotline/tests/cli/util.rs).
//
// The binary is $HOTLINE_BIN, or target/debug/hotline in this repository.
// Every process started here is stopped, and every temp dir removed, by
// stopAll(); call it from an `after` hook. If a test file dies first, an exit
// handler still kills what is left (SIGKILL) and removes the dirs.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is tests/browser/lib/nodes.mjs). */
export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The hotline binary under test. */
export const BIN = path.resolve(REPO, process.env.HOTLINE_BIN || 'target/debug/hotline');

const procs = new Set(); // live `hotline serve` children
const tmps = new Set(); // temp dirs to remove

function env(extra) {
  return { ...process.env, HOTLINE_LOG: 'warn', ...extra };
}

function run(args, opts = {}) {
  if (!fs.existsSync(BIN)) {
    throw new Error(`${BIN} is missing: run \`cargo build -p hotline\` or set HOTLINE_BIN`);
  }
  const r = spawnSync(BIN, args.map(String), {
    env: env(opts.env),
    input: opts.input,
    cwd: opts.cwd,
    encoding: 'utf8',
    timeout: opts.timeout ?? 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return r;
}

/**
 * Runs `hotline ARGS` to completion, asserting success; returns stdout.
 * opts: { env, input, cwd, timeout (ms, default 60 000) }.
 */
export function hotline(args, opts = {}) {
  const r = run(args, opts);
  assert.equal(
    r.status,
    0,
    `hotline ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr}\n${r.stdout}`,
  );
  return r.stdout;
}

/** Runs `hotline ARGS`, asserting failure; returns stderr. */
export function hotlineFails(args, opts = {}) {
  const r = run(args, opts);
  assert.notEqual(r.status, 0, `hotline ${args.join(' ')} should have failed; stdout: ${r.stdout}`);
  return r.stderr;
}

/** Polls `cond` (sync or async) until it is truthy or `secs` pass; returns its value. */
export async function waitUntil(secs, what, cond) {
  const deadline = Date.now() + secs * 1000;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${secs} s waiting for: ${what}`);
    await sleep(100);
  }
}

/** The shipped example file `name` (examples/ of this repository). */
export function example(name) {
  const p = path.join(REPO, 'examples', name);
  assert.ok(fs.statSync(p, { throwIfNoEntry: false })?.isFile(), `${p} is missing`);
  return p;
}

/**
 * A party directory TMP/NAME in a fresh temp dir (`hotline init`).
 * @returns {Promise<{name: string, dir: string, tmp: string}>}
 */
export async function party(name) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `hotline-browser-${name}-`));
  tmps.add(tmp);
  const dir = path.join(tmp, name);
  hotline(['init', '--party', name, '--dir', dir]);
  return { name, dir, tmp };
}

/** `hotline office add OFFICE --dir D` (works with or without the node running). */
export function office(p, name) {
  return hotline(['office', 'add', name, '--dir', p.dir]);
}

/** Sets a node's cosign interval (seconds) in its hotline.toml; before `serve`. */
export function setCosignInterval(p, secs) {
  const f = path.join(p.dir, 'hotline.toml');
  const t = fs.readFileSync(f, 'utf8').replace('cosign_interval_secs = 60', `cosign_interval_secs = ${secs}`);
  assert.ok(t.includes(`cosign_interval_secs = ${secs}`), `hotline.toml has no cosign interval: ${t}`);
  fs.writeFileSync(f, t);
}

function tail(file, n = 4000) {
  try {
    const s = fs.readFileSync(file, 'utf8');
    return s.slice(-n);
  } catch {
    return '';
  }
}

async function healthy(url) {
  try {
    const r = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
    return r.ok;
  } catch {
    return false;
  }
}

/**
 * Starts `hotline serve` for party `p` on free loopback ports and waits until
 * /healthz answers. The node's stderr goes to TMP/NAME.serve.log.
 * Off loopback the node speaks HTTPS: `url` is then https://…, and `api` is
 * `hotline status --json`'s `api` (scheme, url, fingerprint_sha256,
 * spki_sha256). `netns`: run the node in that network namespace.
 * @returns {Promise<{party, url: string, addr: string, peerAddr: string, token: string,
 *   api?: object, proc: import('node:child_process').ChildProcess, log: string, stop: () => Promise<void>}>}
 */
export async function serve(p, { api = '127.0.0.1:0', peer = '127.0.0.1:0', netns } = {}) {
  const addrFile = path.join(p.dir, 'run/api.addr');
  fs.rmSync(addrFile, { force: true });
  const log = path.join(p.tmp, `${p.name}.serve.log`);
  const logFd = fs.openSync(log, 'a');
  const args = ['serve', '--dir', p.dir, '--listen', api, '--peer-listen', peer];
  // In a network namespace (`ip netns exec` execs the node itself, so
  // signals reach it); the CLI still reaches it over run/api.sock.
  const [cmd, argv] = netns ? ['ip', ['netns', 'exec', netns, BIN, ...args]] : [BIN, args];
  const proc = spawn(cmd, argv, {
    env: env(),
    stdio: ['ignore', 'ignore', logFd],
  });
  fs.closeSync(logFd);
  procs.add(proc);
  // A forgotten stop() must not keep the test process alive; the exit handler kills it.
  proc.unref();
  let exited = null;
  const done = new Promise((resolve) => {
    proc.once('exit', (code, signal) => {
      exited = { code, signal };
      procs.delete(proc);
      resolve();
    });
  });
  proc.once('error', (e) => {
    exited = { error: e };
  });

  const stop = async () => {
    if (exited) return;
    proc.kill('SIGTERM');
    const killer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(killer);
  };

  const deadline = Date.now() + 20_000;
  for (;;) {
    if (exited) {
      throw new Error(`hotline serve --dir ${p.dir} exited (${JSON.stringify(exited)}):\n${tail(log)}`);
    }
    let addr = '';
    try {
      addr = fs.readFileSync(addrFile, 'utf8').trim();
    } catch {}
    if (addr && (await healthy(`http://${addr}`))) {
      const token = fs.readFileSync(path.join(p.dir, 'api.token'), 'utf8').trim();
      const peerAddr = fs.readFileSync(path.join(p.dir, 'run/peer.addr'), 'utf8').trim();
      return { party: p, url: `http://${addr}`, addr, peerAddr, token, proc, log, stop };
    }
    // HTTPS (off loopback): ask the node itself, over its socket, how it
    // serves; `api` carries the certificate's fingerprint and SPKI pin.
    const status = addr ? run(['status', '--json', '--dir', p.dir], { timeout: 5000 }) : null;
    if (status?.status === 0) {
      const api = JSON.parse(status.stdout).api;
      if (api?.scheme === 'https') {
        const token = fs.readFileSync(path.join(p.dir, 'api.token'), 'utf8').trim();
        const peerAddr = fs.readFileSync(path.join(p.dir, 'run/peer.addr'), 'utf8').trim();
        const url = api.url.replace(/\/$/, '');
        return { party: p, url, addr, peerAddr, token, api, proc, log, stop };
      }
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`hotline serve --dir ${p.dir} did not come up in 20 s:\n${tail(log)}`);
    }
    await sleep(20);
  }
}

/** Pins each running node on the other, with its real URL and TLS pin (keys export / peer add). */
export function federate(a, b) {
  const ak = path.join(a.dir, '../exported.keys');
  const bk = path.join(b.dir, '../exported.keys');
  fs.writeFileSync(ak, hotline(['keys', 'export', '--dir', a.dir]));
  fs.writeFileSync(bk, hotline(['keys', 'export', '--dir', b.dir]));
  hotline(['peer', 'add', path.basename(b.dir), '--keys', bk, '--dir', a.dir]);
  hotline(['peer', 'add', path.basename(a.dir), '--keys', ak, '--dir', b.dir]);
}

/**
 * `a` proposes the terms in `file`, `b` signs once it has mirrored the
 * proposal, and both see the agreement in force. Both nodes must be running
 * and federated. Returns the agreement id (e.g. "us:1").
 */
export async function agree(a, b, file) {
  const id = JSON.parse(hotline(['agreement', 'propose', '--file', file, '--dir', a.dir, '--json'])).id;
  assert.equal(typeof id, 'string', 'agreement propose --json gave no id');
  const inState = (p, state) =>
    JSON.parse(hotline(['agreements', '--dir', p.dir, '--json'])).some((x) => x.id === id && x.state === state);
  await waitUntil(30, 'the proposal reaching the other party', () => inState(b, 'proposed'));
  hotline(['agreement', 'sign', id, '--dir', b.dir]);
  await waitUntil(30, 'the signature reaching the proposer', () => inState(a, 'in_force'));
  return id;
}

/**
 * An operator of `office` for the console:
 * `hotline operator add OFFICE NAME --password-file F --dir D [--admin]`.
 * The password goes through a mode-0600 file that is removed afterwards.
 */
export function operator(p, officeName, name, password, { admin = false } = {}) {
  const f = path.join(p.tmp, `password-${process.pid}-${Date.now()}`);
  fs.writeFileSync(f, password, { mode: 0o600 });
  try {
    const args = ['operator', 'add', officeName, name, '--password-file', f, '--dir', p.dir];
    if (admin) args.push('--admin');
    return hotline(args);
  } finally {
    fs.rmSync(f, { force: true });
  }
}

/**
 * Two parties as the console tests want them: us (offices us/fbi, us/nsc,
 * us/president) and ru (ru/fsb, ru/kremlin, ru/president), cosigning every second, both served, federated over
 * pinned TLS, with examples/cyber-agreement.toml (channel us/fbi ↔ ru/fsb)
 * proposed by us and signed by ru, in force on both sides.
 * @returns {Promise<{us, ru, usNode, ruNode, agreement: string}>}
 */
export async function twoParties() {
  const us = await party('us');
  const ru = await party('ru');
  office(us, 'us/fbi');
  office(us, 'us/nsc');
  office(us, 'us/president');
  office(ru, 'ru/fsb');
  office(ru, 'ru/kremlin');
  office(ru, 'ru/president');
  setCosignInterval(us, 1);
  setCosignInterval(ru, 1);
  const [usNode, ruNode] = await Promise.all([serve(us), serve(ru)]);
  federate(us, ru);
  const agreement = await agree(us, ru, example('cyber-agreement.toml'));
  return { us, ru, usNode, ruNode, agreement };
}

/** Stops every node started here (SIGTERM, SIGKILL after 5 s) and removes the temp dirs. */
export async function stopAll() {
  await Promise.all(
    [...procs].map(
      (proc) =>
        new Promise((resolve) => {
          if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
          proc.once('exit', resolve);
          proc.kill('SIGTERM');
          const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
          proc.once('exit', () => clearTimeout(t));
        }),
    ),
  );
  procs.clear();
  for (const d of tmps) fs.rmSync(d, { recursive: true, force: true });
  tmps.clear();
}

// Last resort when a test file ends without stopAll (a crash, a timeout, Ctrl-C).
function cleanupSync() {
  for (const proc of procs) {
    try {
      proc.kill('SIGKILL');
    } catch {}
  }
  for (const d of tmps) {
    try {
      fs.rmSync(d, { recursive: true, force: true });
    } catch {}
  }
}
process.once('exit', cleanupSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => {
    cleanupSync();
    process.kill(process.pid, sig);
  });
}
