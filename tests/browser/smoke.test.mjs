// The browser-test plumbing itself: Debian's Chromium reaches a real hotline
// node, the two-party setup comes up, and the cookie behaviour the operator
// console relies on holds.

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { launch, newPage, shot } from './lib/browser.mjs';
import { hotline, party, serve, stopAll, twoParties } from './lib/nodes.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await stopAll();
});

test('Chromium reads /healthz of a served node', async () => {
  const us = await party('us');
  const node = await serve(us);
  const page = await newPage(browser);
  const res = await page.goto(`${node.url}/healthz`);
  assert.equal(res.status(), 200);
  // What the page shows, not only what came over the wire. Anonymously:
  // that the node is up, nothing about its traffic.
  const shown = JSON.parse(await page.locator('body').innerText());
  assert.equal(shown.status, 'ok');
  assert.equal(shown.party, 'us');
  assert.equal(shown.log_size, undefined);
  await page.setExtraHTTPHeaders({ Authorization: `Bearer ${node.token}` });
  await page.goto(`${node.url}/healthz`);
  assert.equal(typeof JSON.parse(await page.locator('body').innerText()).log_size, 'number');
  await shot(page, 'smoke-healthz');
  await page.context().close();
  await node.stop();
  assert.notEqual(node.proc.exitCode ?? node.proc.signalCode, null, 'the node is still running');
});

test('twoParties: us and ru served, federated, the cyber agreement in force', async () => {
  const { us, ru, usNode, ruNode, agreement } = await twoParties();
  assert.match(agreement, /^us:\d+$/);
  for (const p of [us, ru]) {
    const list = JSON.parse(hotline(['agreements', '--dir', p.dir, '--json']));
    assert.ok(
      list.some((a) => a.id === agreement && a.state === 'in_force'),
      `${p.name}: ${JSON.stringify(list)}`,
    );
  }
  const page = await newPage(browser);
  for (const [node, name] of [
    [usNode, 'us'],
    [ruNode, 'ru'],
  ]) {
    await page.goto(`${node.url}/healthz`);
    assert.equal(JSON.parse(await page.locator('body').innerText()).party, name);
  }
  await page.context().close();
});

// A tiny plain-HTTP server (not a hotline node): GET /set sets a session-like
// cookie, any other path echoes the Cookie header it received.
async function cookieServer(tag) {
  const srv = http.createServer((req, res) => {
    if (req.url === '/set') {
      res.setHeader('Set-Cookie', [
        `sid=${tag}; Secure; HttpOnly; SameSite=Strict; Path=/`,
        `__Host-sid=${tag}; Secure; HttpOnly; SameSite=Strict; Path=/`,
      ]);
      res.setHeader('Content-Type', 'text/html');
      res.end('<p>set</p>');
    } else {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ cookie: req.headers.cookie ?? null }));
    }
  });
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return { port: srv.address().port, close: () => new Promise((r) => srv.close(r)) };
}

async function cookieSent(page, url) {
  return JSON.parse(await (await page.goto(url)).text()).cookie;
}

test('a Secure; HttpOnly; SameSite=Strict cookie over plain HTTP on loopback', async () => {
  const a = await cookieServer('A');
  const b = await cookieServer('B');
  try {
    for (const host of ['127.0.0.1', 'localhost']) {
      const page = await newPage(browser);
      const A = `http://${host}:${a.port}`;
      const B = `http://${host}:${b.port}`;
      await page.goto(`${A}/set`);
      // Chromium treats both loopback names as secure contexts, so it keeps a
      // Secure (even __Host-) cookie set over http and sends it back.
      assert.equal(await page.evaluate(() => window.isSecureContext), true, host);
      assert.equal(await cookieSent(page, `${A}/echo`), 'sid=A; __Host-sid=A', host);
      assert.equal(
        await page.evaluate(() => fetch('/echo').then((r) => r.json()).then((j) => j.cookie)),
        'sid=A; __Host-sid=A',
        `${host}: fetch`,
      );
      // HttpOnly: invisible to the page's scripts.
      assert.equal(await page.evaluate(() => document.cookie), '', host);
      // Cookies are per host, not per port: another node on the same host
      // gets this cookie, and a same-named cookie it sets replaces it.
      assert.equal(await cookieSent(page, `${B}/echo`), 'sid=A; __Host-sid=A', `${host}: other port`);
      await page.goto(`${B}/set`);
      assert.equal(await cookieSent(page, `${A}/echo`), 'sid=B; __Host-sid=B', `${host}: overwritten`);
      // 127.0.0.1 and localhost are different sites: no cookie crosses.
      const other = host === 'localhost' ? '127.0.0.1' : 'localhost';
      assert.equal(await cookieSent(page, `http://${other}:${a.port}/echo`), null, `${host} → ${other}`);
      await page.context().close();
    }
  } finally {
    await a.close();
    await b.close();
  }
});
