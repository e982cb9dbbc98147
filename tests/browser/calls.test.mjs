// A video call between the two consoles, in two headless Chromium pages
// with synthetic cameras: ru requests, us accepts, both join, WebRTC
// connects browser to browser with the nodes relaying the signalling, both
// decode the other's video, one hangs up, and both sides' call.records are
// in both logs, cross-referenced. Then each side's readout, side by side.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';

import { agree, example, hotline, operator, stopAll, twoParties, waitUntil } from './lib/nodes.mjs';
import { ARTIFACTS, launch, newPage, shot } from './lib/browser.mjs';
import path from 'node:path';

const PASSWORD = 'correct horse battery staple';
let t, browser, us, ru, callId;

async function signIn(node, name) {
  const page = await newPage(browser);
  page.on('pageerror', (e) => assert.fail(`script error on ${page.url()}: ${e.message}`));
  await page.goto(`${node.url}/login`);
  await page.fill('#name', name);
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  return page;
}

/** Every entry of a log as this node holds it (its own, or its mirror of `peer`). */
function log(p, peer) {
  const args = ['log', '--json', '--dir', p.dir];
  if (peer) args.push('--peer', peer);
  return hotline(args)
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** Frames of the other side's video this page has decoded so far. */
function framesDecoded(page) {
  return page.evaluate(async () => {
    const pc = window.hotlineCall?.pc;
    if (!pc) return 0;
    let n = 0;
    (await pc.getStats()).forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'video') n += r.framesDecoded || 0;
    });
    return n;
  });
}

before(async () => {
  t = await twoParties();
  await agree(t.us, t.ru, example('presidential-agreement.toml'));
  operator(t.us, 'us/president', 'potus', PASSWORD);
  operator(t.ru, 'ru/president', 'vvp', PASSWORD);
  browser = await launch();
  us = await signIn(t.usNode, 'potus');
  ru = await signIn(t.ruNode, 'vvp');
});

after(async () => {
  await browser?.close();
  await stopAll();
});

test('ru requests a video call; us is notified live and accepts', async () => {
  await us.goto(`${t.usNode.url}/calls`);
  await us.waitForSelector('body[data-live="on"]');
  await ru.goto(`${t.ruNode.url}/calls`);
  await ru.selectOption('#channel', 'ru/president us/president');
  await ru.check('input[name=media][value=video]');
  await ru.fill('#time1', '2031-01-26T15:00');
  await ru.fill('#topics', 'New START extension\nSolarWinds');
  await Promise.all([ru.waitForNavigation(), ru.click('#request-call')]);
  if (!(await ru.locator('.flash').count())) assert.fail(`the request was not taken: ${await ru.locator('main').innerText()}`);
  const flash = await ru.locator('.flash').innerText();
  callId = flash.match(/Call (ru:\d+) requested/)?.[1];
  assert.ok(callId, flash);
  const notice = us.locator('.notice', { hasText: callId });
  await notice.waitFor({ timeout: 20_000 });
  await us.locator(`.call-row[data-id="${callId}"]`).waitFor({ timeout: 10_000 });
  await Promise.all([us.waitForNavigation(), notice.locator('a').click()]);
  assert.equal(new URL(us.url()).pathname, `/calls/${callId}`);
  assert.match(await us.locator('main').innerText(), /New START extension/);
  assert.equal(await us.isDisabled('#join'), true, 'nobody joins before the call is accepted');
  assert.equal(await us.isVisible('#join'), false, 'Join appears only once the call is accepted');
});

let acceptedAt;
test('both join: the browsers connect directly and decode each other\'s video', async () => {
  await ru.goto(`${t.ruNode.url}/calls/${callId}`);
  await ru.waitForSelector('body[data-live="on"]');
  await Promise.all([us.waitForNavigation(), us.click('#accept')]);
  acceptedAt = Date.now();
  assert.match(await us.locator('.flash').innerText(), /Accepted for/);
  // ru's page learns of the acceptance live and lets its operator join.
  await ru.waitForFunction(() => !document.getElementById('join').disabled && !document.getElementById('join').hidden, null, {
    timeout: 20_000,
  });
  await us.waitForSelector('body[data-live="on"]');
  await us.click('#join');
  await ru.click('#join');
  let firstFrameAt;
  await waitUntil(30, 'both sides decoding video', async () => {
    const [a, b] = [await framesDecoded(us), await framesDecoded(ru)];
    if (!firstFrameAt && (a > 0 || b > 0)) firstFrameAt = Date.now();
    return a > 0 && b > 0;
  });
  for (const page of [us, ru]) {
    assert.equal(await page.evaluate(() => window.hotlineCall.pc.connectionState), 'connected');
    // DTLS-SRTP: the transport is encrypted, with a fingerprint-checked certificate.
    const dtls = await page.evaluate(async () => {
      let s = null;
      (await window.hotlineCall.pc.getStats()).forEach((r) => {
        if (r.type === 'transport') s = [r.dtlsState, r.srtpCipher];
      });
      return s;
    });
    assert.equal(dtls[0], 'connected');
    assert.ok(dtls[1], 'an SRTP cipher is in use');
  }
  const report = { accept_to_first_decoded_frame_ms: firstFrameAt - acceptedAt, both_decoding_ms: Date.now() - acceptedAt };
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  fs.writeFileSync(`${ARTIFACTS}/call-setup.json`, JSON.stringify(report, null, 2));
  console.log(`# call set-up: ${JSON.stringify(report)}`);
  await shot(us, 'call-us-live');
  await shot(ru, 'call-ru-live');
});

test('ru hangs up; both call.records are in both logs, cross-referenced', async () => {
  await ru.click('#hangup');
  for (const page of [ru, us]) {
    await page.waitForFunction(() => window.hotlineCall.recorded, null, { timeout: 20_000 });
  }
  const [rp, ri] = callId.split(':');
  const isRecord = (e) => e.header.kind === 'call.record' && e.header.refs?.[0]?.log === rp && e.header.refs[0].index === Number(ri);
  let records;
  await waitUntil(30, 'both records mirrored on both sides', () => {
    const usOwn = log(t.us).filter(isRecord);
    const ruOwn = log(t.ru).filter(isRecord);
    const usMirror = log(t.us, 'ru').filter(isRecord);
    const ruMirror = log(t.ru, 'us').filter(isRecord);
    records = { usOwn, ruOwn };
    return usOwn.length === 1 && ruOwn.length === 1 && usMirror.length === 1 && ruMirror.length === 1
      && usMirror[0].leaf === ruOwn[0].leaf && ruMirror[0].leaf === usOwn[0].leaf;
  });
  // The later record refers to the earlier (the second ref), both to the request.
  const refOf = (rec, party) => rec.header.refs.find((r) => r.log === party);
  const usRec = records.usOwn[0];
  const ruRec = records.ruOwn[0];
  const usRefsRu = usRec.header.refs.some((r) => r.log === 'ru' && r.index === ruRec.index);
  const ruRefsUs = ruRec.header.refs.some((r) => r.log === 'us' && r.index === usRec.index);
  assert.ok(usRefsRu || ruRefsUs, `one record refers to the other: ${JSON.stringify([usRec.header.refs, ruRec.header.refs])}`);
  assert.ok(refOf(usRec, 'ru') && refOf(ruRec, 'ru'), 'both refer to the call request in ru\'s log');
  // Both pages list both records.
  for (const page of [us, ru]) {
    await page.reload();
    assert.equal(await page.locator('#records .record').count(), 2);
  }
});

test('each side publishes its own readout; both are shown side by side', async () => {
  await ru.fill('#text', 'The presidents discussed strategic stability and agreed to extend New START.');
  await ru.fill('#lang', 'en');
  await Promise.all([ru.waitForNavigation(), ru.click('#publish-readout')]);
  assert.match(await ru.locator('.flash').innerText(), /Readout ru:\d+ published, signed by ru\/president/);
  assert.equal(await ru.locator('#publish-readout').count(), 0, 'the readout replaces the form to publish one');
  await us.fill('#text', 'The President raised SolarWinds and the poisoning of Aleksey Navalny.');
  await Promise.all([us.waitForNavigation(), us.click('#publish-readout')]);
  await us.locator('.side[data-party="ru"] .readout').waitFor({ timeout: 20_000 });
  const sides = await us.locator('#readouts .side').allInnerTexts();
  assert.equal(sides.length, 2);
  assert.match(sides[0], /SolarWinds/);
  assert.match(sides[0], /Signed by us\/president/);
  assert.match(sides[1], /extend New START/);
  assert.match(sides[1], /Signed by ru\/president/);
  await shot(us, 'call-readouts', { fullPage: true });
});

test('accepting something that was never requested is refused and writes nothing', async () => {
  const before = log(t.us).length;
  const csrf = await us.inputValue('form[action="/logout"] input[name=csrf]');
  // us:1 is an office key announcement, not a call request.
  const [status, text] = await us.evaluate(async (csrf) => {
    const r = await fetch('/calls/us:1/accept', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf, at: '2031-01-26T15:00:00Z' }),
    });
    return [r.status, await r.text()];
  }, csrf);
  assert.equal(status, 400, text);
  assert.match(text, /not a call request/);
  assert.equal(log(t.us).length, before);
});

test('a joint statement: us proposes, ru endorses the same text, and hotline verify says joint', async () => {
  await us.goto(`${t.usNode.url}/statements`);
  await us.selectOption('#channel', 'us/president ru/president');
  // Two lines: the browser sends CR LF; the statement is signed with LF.
  await us.fill('#text', 'The United States and Russia will embark on an integrated bilateral\nStrategic Stability Dialogue.');
  await us.fill('#lang', 'en');
  await Promise.all([us.waitForNavigation(), us.click('#propose-statement')]);
  const id = (await us.locator('.flash').innerText()).match(/Statement (us:\d+) proposed/)?.[1];
  assert.ok(id);
  assert.match(await us.locator('#statement-verdict').innerText(), /^One-sided statement: only us\/president signed/);
  await waitUntil(20, 'the statement reaching ru', async () => {
    const r = await ru.goto(`${t.ruNode.url}/statements/${id}`);
    return r.status() === 200;
  });
  await Promise.all([ru.waitForNavigation(), ru.click('#endorse')]);
  assert.match(await ru.locator('.flash').innerText(), new RegExp(`Endorsed ${id}`));
  await waitUntil(20, 'the endorsement reaching us', async () => {
    await us.goto(`${t.usNode.url}/statements/${id}`);
    return /^Joint statement/.test(await us.locator('#statement-verdict').innerText());
  });
  const [dl] = await Promise.all([us.waitForEvent('download'), us.click('#statement-proof')]);
  const file = path.join(ARTIFACTS, 'statement-bundle.json');
  await dl.saveAs(file);
  const keys = [];
  for (const p of [t.us, t.ru]) {
    keys.push('--key', hotline(['key', '--dir', p.dir]).trim(), '--key', hotline(['key', '--witness', '--dir', p.dir]).trim());
  }
  const out = hotline(['verify', file, ...keys]);
  assert.match(out, /Joint statement: us\/president .* and ru\/president .* signed the same text/);
  assert.match(out, /integrated bilateral\\nStrategic Stability Dialogue/, 'the signed text has a plain LF');
});
