// The first page a duty officer sees lists what waits for them, and every
// page says in plain words when the other side cannot be reached: against
// two real nodes federated over pinned TLS, one of them stopped and started
// again. The console's address comes from lib/nodes.mjs (`node.url`), so the
// same test runs over whatever transport the nodes serve.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { hotline, operator, serve, stopAll, twoParties, waitUntil } from './lib/nodes.mjs';
import { launch, newPage, shot } from './lib/browser.mjs';

const PASSWORD = 'correct horse battery staple';
let t;
let browser;
let boris; // ru/fsb's duty officer, signed in on ru's console
let alice; // us/fbi's, on us's console
let inquiryId;

async function signIn(node, name) {
  const page = await newPage(browser);
  page.on('pageerror', (e) => assert.fail(`script error on ${page.url()}: ${e.message}`));
  await page.goto(`${node.url}/login`);
  await page.fill('#name', name);
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  assert.equal(new URL(page.url()).pathname, '/');
  return page;
}

function inquire(subject) {
  const body = path.join(t.us.tmp, 'inquiry.txt');
  fs.writeFileSync(body, 'Please confirm the outage on your side.\n');
  const out = hotline(['inquire', '--dir', t.us.dir, '--from', 'us/fbi', '--to', 'ru/fsb', '--subject', subject, '--body-file', body, '--json']);
  return JSON.parse(out).id;
}

before(async () => {
  t = await twoParties();
  operator(t.us, 'us/fbi', 'alice', PASSWORD);
  operator(t.ru, 'ru/fsb', 'boris', PASSWORD);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await stopAll();
});

describe('needs action', () => {
  test('an inquiry to acknowledge is listed with its time left, and leaves the list once acknowledged', async () => {
    boris = await signIn(t.ruNode, 'boris');
    assert.match(await boris.locator('#needs-action').innerText(), /Nothing waits for you/);
    inquiryId = inquire('Outage on the line');
    const item = boris.locator('#actions li[data-kind="inquiry"]', { hasText: inquiryId });
    await waitUntil(30, 'the inquiry is mirrored by ru', async () => {
      await boris.reload();
      return (await item.count()) === 1;
    });
    const text = await item.innerText();
    assert.match(text, new RegExp(`Acknowledge inquiry ${inquiryId} from us/fbi to ru/fsb`));
    // The cyber agreement gives a day to acknowledge: time left in words.
    assert.match(text, /\b(23 h 59 min|24 h 0 min) left$/, text);
    await shot(boris, 'console-needs-action');
    await Promise.all([boris.waitForNavigation(), item.locator('a').click()]);
    assert.equal(new URL(boris.url()).pathname, `/inquiries/${inquiryId}`);
    await Promise.all([boris.waitForNavigation(), boris.click('#ack')]);
    await boris.goto(`${t.ruNode.url}/`);
    const after = await boris.locator('#needs-action').innerText();
    assert.doesNotMatch(after, new RegExp(`Acknowledge inquiry ${inquiryId}`));
    assert.match(after, new RegExp(`Answer inquiry ${inquiryId} from us/fbi to ru/fsb`), 'the next step is listed instead');
  });

  test('a stopped peer puts a banner with the waiting count on every page; it clears when the peer returns', async () => {
    alice = await signIn(t.usNode, 'alice');
    assert.equal(await alice.locator('.link-down').count(), 0, 'no banner while the link is up');
    const { addr, peerAddr } = t.ruNode;
    await t.ruNode.stop();
    // Written while ru is away: they wait in us's log.
    inquire('While you were away 1');
    inquire('While you were away 2');
    const banner = alice.locator('.link-down');
    await waitUntil(60, 'the banner appears', async () => {
      await alice.reload();
      return (await banner.count()) === 1 && /messages are waiting/.test(await banner.innerText());
    });
    const words = await banner.locator('strong').innerText();
    assert.match(
      words,
      /^ru has not been reachable since \d\d:\d\d UTC; \d+ messages are waiting; they will be delivered when the link returns\.$/,
      words,
    );
    const waiting = Number(/; (\d+) messages/.exec(words)[1]);
    assert.ok(waiting >= 2, `both inquiries wait: ${words}`);
    // The technical reason is folded away.
    assert.equal(await banner.locator('details').count(), 1);
    assert.equal(await banner.locator('details p').isVisible(), false);
    for (const p of ['/inquiries', '/calls', '/statements', '/health', '/compose']) {
      await alice.goto(`${t.usNode.url}${p}`);
      assert.match(await alice.locator('.link-down strong').innerText(), /ru has not been reachable since/, p);
    }
    await alice.goto(`${t.usNode.url}/`);
    assert.match(
      await alice.locator('#actions li[data-kind="queued"]').innerText(),
      /\d+ messages waiting for ru: the link has been down since/,
    );
    await shot(alice, 'console-link-down');
    t.ruNode = await serve(t.ru, { api: addr, peer: peerAddr });
    await waitUntil(60, 'the banner clears', async () => {
      await alice.reload();
      return (await banner.count()) === 0;
    });
    await alice.goto(`${t.usNode.url}/inquiries`);
    assert.equal(await alice.locator('.link-down').count(), 0);
  });
});
