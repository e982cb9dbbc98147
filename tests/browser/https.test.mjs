// The console over HTTPS on a non-loopback address, as a duty desk on a LAN
// reaches it: us's node runs inside a network namespace this test creates
// (10.77.0.2, joined to this host's 10.77.0.1 by a veth pair), serving its
// own certificate; ru's node runs on this host. Chromium trusts exactly that
// one certificate (--ignore-certificate-errors-spki-list, the SPKI pin
// `hotline status` prints), signs in — the Secure session cookie works off
// loopback — and works an inquiry from ru.
//
// Needs root and `ip netns` (iproute2). Where the namespace cannot be
// created, the test is skipped and says why; it never passes silently.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { agree, example, federate, hotline, office, operator, party, serve, stopAll, waitUntil } from './lib/nodes.mjs';
import { launch, newPage, shot } from './lib/browser.mjs';

const PASSWORD = 'correct horse battery staple';
const NS = `hl-https-${process.pid}`;
const HOST_IF = `hlh${process.pid % 100000}`;
const NS_IF = `hln${process.pid % 100000}`;
const HOST_IP = '10.77.0.1';
const NS_IP = '10.77.0.2';

function ip(...args) {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.error) return { ok: false, why: r.error.message };
  return { ok: r.status === 0, why: (r.stderr || r.stdout).trim() };
}

/** Creates the namespace and the veth pair; returns why not, or null. */
function makeNetwork() {
  const steps = [
    ['netns', 'add', NS],
    ['link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', NS_IF],
    ['link', 'set', NS_IF, 'netns', NS],
    ['addr', 'add', `${HOST_IP}/24`, 'dev', HOST_IF],
    ['link', 'set', HOST_IF, 'up'],
    ['-n', NS, 'addr', 'add', `${NS_IP}/24`, 'dev', NS_IF],
    ['-n', NS, 'link', 'set', NS_IF, 'up'],
    ['-n', NS, 'link', 'set', 'lo', 'up'],
  ];
  for (const s of steps) {
    const r = ip(...s);
    if (!r.ok) return `\`ip ${s.join(' ')}\` failed: ${r.why}`;
  }
  return null;
}

function dropNetwork() {
  ip('link', 'del', HOST_IF);
  ip('netns', 'del', NS);
}

let cannot = null;
let net; // { us, ru, usNode, ruNode }
let browser;

before(async () => {
  cannot =
    process.getuid?.() !== 0
      ? 'not root: creating a network namespace needs root'
      : makeNetwork();
  if (cannot) return;
  const us = await party('us');
  const ru = await party('ru');
  // The LAN address goes into us's certificate, as an operator would do it.
  const regen = JSON.parse(hotline(['tls', 'regenerate', '--san', NS_IP, '--dir', us.dir, '--json']));
  office(us, 'us/fbi');
  office(ru, 'ru/fsb');
  const [usNode, ruNode] = await Promise.all([
    serve(us, { api: `${NS_IP}:7443`, peer: `${NS_IP}:0`, netns: NS }),
    serve(ru, { peer: `${HOST_IP}:0` }),
  ]);
  federate(us, ru);
  await agree(us, ru, example('cyber-agreement.toml'));
  operator(us, 'us/fbi', 'alice', PASSWORD);
  net = { us, ru, usNode, ruNode, regen };
  browser = await launch({ args: [`--ignore-certificate-errors-spki-list=${usNode.api.spki_sha256}`] });
});

after(async () => {
  await browser?.close();
  await stopAll();
  if (!cannot) dropNetwork();
});

test('the console over HTTPS on a LAN address: sign in and work an inquiry', async (t) => {
  if (cannot) {
    t.skip(`this machine cannot create the test network (${cannot})`);
    return;
  }
  const { us, ru, usNode, regen } = net;
  // The node serves HTTPS off loopback, with the certificate `tls regenerate` made.
  assert.equal(usNode.url, `https://${NS_IP}:7443`);
  assert.equal(usNode.api.fingerprint_sha256, regen.fingerprint_sha256);
  assert.equal(usNode.api.spki_sha256, regen.spki_sha256);

  // ru/fsb asks us/fbi something, from the command line.
  const body = path.join(ru.tmp, 'inquiry.txt');
  fs.writeFileSync(body, 'Which servers carried the traffic on the night of the 12th?');
  const id = JSON.parse(
    hotline([
      'inquire', '--from', 'ru/fsb', '--to', 'us/fbi', '--subject', 'Servers of the 12th',
      '--body-file', body, '--dir', ru.dir, '--json',
    ]),
  ).id;
  await waitUntil(30, 'the inquiry reaching us', () =>
    JSON.parse(hotline(['inquiries', '--dir', us.dir, '--json'])).some((q) => q.id === id),
  );

  const page = await newPage(browser);
  page.on('pageerror', (e) => assert.fail(`script error on ${page.url()}: ${e.message}`));
  const res = await page.goto(`${usNode.url}/`);
  const tls = await res.securityDetails();
  assert.equal(tls?.protocol, 'TLS 1.3');
  assert.equal(tls?.subjectName, 'hotline us console');
  assert.match(page.url(), /^https:\/\/10\.77\.0\.2:7443\/login\?next=/);
  await page.fill('#name', 'alice');
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  assert.doesNotMatch(page.url(), /\/login/, 'signed in');
  // The session cookie is Secure, and the browser keeps it on this address.
  const cookies = await page.context().cookies(usNode.url);
  const session = cookies.find((c) => c.name === 'hotline_session_us');
  assert.ok(session, `no session cookie: ${JSON.stringify(cookies)}`);
  assert.equal(session.secure, true);
  assert.equal(session.domain, NS_IP);

  // The first page lists what waits: ru's inquiry, to acknowledge.
  await page.goto(`${usNode.url}/`);
  const waits = page.locator('#actions li[data-kind="inquiry"]', { hasText: id });
  assert.match(await waits.innerText(), new RegExp(`Acknowledge inquiry ${id} from ru/fsb to us/fbi`));

  await page.goto(`${usNode.url}/inquiries/${id}`);
  assert.match(await page.locator('main').innerText(), /Which servers carried the traffic/);
  await Promise.all([page.waitForNavigation(), page.click('#ack')]);
  assert.match(await page.locator('.flash').innerText(), new RegExp(`Acknowledged ${id}`));
  await page.fill('#text', 'Two servers in Frankfurt; their logs are attached to our next message.');
  await Promise.all([page.waitForNavigation(), page.click('#send-answer')]);
  assert.match(await page.locator('.flash').innerText(), /Answer us:\d+ sent/);
  assert.match(await page.locator('#inquiry-status').innerText(), /answered/);
  await shot(page, 'console-https-lan');
  await page.goto(`${usNode.url}/`);
  assert.equal(await page.locator('#actions li[data-kind="inquiry"]', { hasText: id }).count(), 0, 'answered: nothing left to do on it');

  // ru has it: the answer went back over the pinned link from the namespace.
  await waitUntil(30, 'the answer reaching ru', () =>
    JSON.parse(hotline(['inquiries', '--dir', ru.dir, '--json'])).some(
      (q) => q.id === id && /answered/.test(JSON.stringify(q)),
    ),
  );

  // ru goes away: every page says so in plain words, and clears when it returns.
  const { addr, peerAddr } = net.ruNode;
  await net.ruNode.stop();
  const note = path.join(us.tmp, 'note.txt');
  fs.writeFileSync(note, 'Are you still there?');
  hotline(['inquire', '--from', 'us/fbi', '--to', 'ru/fsb', '--subject', 'Link check', '--body-file', note, '--dir', us.dir]);
  const banner = page.locator('.link-down');
  await waitUntil(60, 'the link-down banner appearing', async () => {
    await page.reload();
    return (await banner.count()) === 1 && /ru has not been reachable since .*messages? (is|are) waiting/.test(await banner.innerText());
  });
  await page.goto(`${usNode.url}/inquiries`);
  assert.match(await page.locator('.link-down strong').innerText(), /ru has not been reachable since/);
  net.ruNode = await serve(ru, { api: addr, peer: peerAddr });
  await waitUntil(60, 'the banner clearing once ru is back', async () => {
    await page.reload();
    return (await banner.count()) === 0;
  });
  await page.context().close();
});
