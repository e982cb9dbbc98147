// Measures what a flood of sign-in attempts costs a signed-in operator: the
// sign-in attempts per second the node answers (checked, and turned away with
// 429) while the operator loads the channel list, and the operator's median
// page time under the flood beside the same figure without it, in one run.
// The attackers send wrong passwords for the operator's own name from many
// loopback addresses (127.0.X.Y), so that the per-address limit never applies
// and only the node-wide limit on password checks holds. A measurement, not a
// test: run it by hand and compare figures from one run side by side.
//
//   HOTLINE_BIN=target/release/hotline node tests/browser/measure/login.mjs [SECONDS] [ATTACKERS]

import http from 'node:http';
import https from 'node:https';
import { office, operator, party, serve, stopAll } from '../lib/nodes.mjs';

const SECONDS = Number(process.argv[2] ?? 10);
const ATTACKERS = Number(process.argv[3] ?? 64);
const PASSWORD = 'correct horse battery staple';

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function p95(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.95))];
}

/** One request from `from` (an address of 127.0.0.0/8), without keep-alive. */
function request(url, from, method, path, { cookie = '', body = '' } = {}) {
  const u = new URL(path, url);
  const lib = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      u,
      {
        method,
        localAddress: from,
        agent: false,
        rejectUnauthorized: false,
        headers: {
          Cookie: cookie,
          'Content-Type': 'application/x-www-form-urlencoded',
          'Content-Length': Buffer.byteLength(body),
          Connection: 'close',
        },
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function cookieOf(res, name) {
  for (const c of res.headers['set-cookie'] ?? []) {
    const [kv] = c.split(';');
    const [k, v] = kv.split('=');
    if (k === name) return `${k}=${v}`;
  }
  throw new Error(`no ${name} cookie`);
}

async function loginForm(url, from) {
  const r = await request(url, from, 'GET', '/login');
  const csrf = /name="csrf" value="([^"]+)"/.exec(r.body)[1];
  return { cookie: cookieOf(r, 'hotline_login_us'), csrf };
}

/** The operator loads `/` again and again for `secs`; returns the times in ms. */
async function pages(url, session, secs) {
  const times = [];
  const end = Date.now() + secs * 1000;
  while (Date.now() < end) {
    const t0 = performance.now();
    const r = await request(url, '127.0.0.3', 'GET', '/', { cookie: session });
    if (r.status !== 200) throw new Error(`the operator's page: ${r.status}`);
    times.push(performance.now() - t0);
  }
  return times;
}

try {
  const us = await party('us');
  office(us, 'us/fbi');
  operator(us, 'us/fbi', 'alice', PASSWORD);
  const node = await serve(us);
  const url = node.url;

  const f = await loginForm(url, '127.0.0.3');
  const signed = await request(url, '127.0.0.3', 'POST', '/login', {
    cookie: f.cookie,
    body: new URLSearchParams({ name: 'alice', password: PASSWORD, csrf: f.csrf }).toString(),
  });
  if (signed.status !== 303) throw new Error(`sign-in: ${signed.status}`);
  const session = cookieOf(signed, 'hotline_session_us');

  process.stderr.write(`pages without a flood, ${SECONDS} s…\n`);
  const quiet = await pages(url, session, SECONDS);

  process.stderr.write(`pages under ${ATTACKERS} attackers, ${SECONDS} s…\n`);
  const a = await loginForm(url, '127.0.1.1');
  const body = new URLSearchParams({ name: 'alice', password: 'not the password at all', csrf: a.csrf }).toString();
  const counts = {};
  let stop = false;
  let n = 0;
  const attacker = async () => {
    while (!stop) {
      const i = n++;
      const from = `127.0.${2 + ((i >> 8) % 200)}.${1 + (i % 250)}`;
      try {
        const r = await request(url, from, 'POST', '/login', { cookie: a.cookie, body });
        counts[r.status] = (counts[r.status] ?? 0) + 1;
      } catch (e) {
        counts[e.code ?? 'error'] = (counts[e.code ?? 'error'] ?? 0) + 1;
      }
    }
  };
  const started = performance.now();
  const flood = Array.from({ length: ATTACKERS }, attacker);
  const loud = await pages(url, session, SECONDS);
  stop = true;
  await Promise.all(flood);
  const secs = (performance.now() - started) / 1000;
  const answered = Object.values(counts).reduce((x, y) => x + y, 0);

  const ms = (x) => `${x.toFixed(1)} ms`;
  console.log(`sign-in attempts answered under the flood: ${(answered / secs).toFixed(0)}/s`);
  console.log(
    `  of which checked (401): ${((counts[401] ?? 0) / secs).toFixed(1)}/s, turned away (429): ${((counts[429] ?? 0) / secs).toFixed(0)}/s; all: ${JSON.stringify(counts)}`,
  );
  console.log(`operator's page /, without the flood: median ${ms(median(quiet))}, p95 ${ms(p95(quiet))} (${quiet.length} loads)`);
  console.log(`operator's page /, under the flood:   median ${ms(median(loud))}, p95 ${ms(p95(loud))} (${loud.length} loads)`);
} finally {
  await stopAll();
}
