// The operator console in a real browser (Debian Chromium, headless) against
// two real nodes federated over pinned TLS: a duty officer's day from
// sign-in to a proof that `hotline verify` accepts, and the refusals that
// keep the wrong person from acting.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { agree, hotline, operator, stopAll, twoParties, waitUntil } from './lib/nodes.mjs';
import { ARTIFACTS, launch, newPage, shot } from './lib/browser.mjs';

const PASSWORD = 'correct horse battery staple';
let t; // the two parties
let browser;
let shortAgreement; // us/nsc ↔ ru/kremlin, acknowledgement due in 2 s

/** Signs in on a fresh page (own browser context, so own cookies). */
async function signIn(node, name, password = PASSWORD, size) {
  const page = await newPage(browser, size);
  page.on('pageerror', (e) => assert.fail(`script error on ${page.url()}: ${e.message}`));
  await page.goto(`${node.url}/`);
  assert.match(page.url(), /\/login\?next=/, 'an anonymous visit is sent to the sign-in page');
  await page.fill('#name', name);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  return page;
}

/** The node's log size, from its health endpoint (with the token: anonymously it shows none). */
async function logSize(node) {
  const r = await fetch(`${node.url}/healthz`, { headers: { Authorization: `Bearer ${node.token}` } });
  return (await r.json()).log_size;
}

/** Every pinned key, as `--key` arguments for `hotline verify`. */
function keyArgs() {
  const out = [];
  for (const p of [t.us, t.ru]) {
    out.push('--key', hotline(['key', '--dir', p.dir]).trim());
    out.push('--key', hotline(['key', '--witness', '--dir', p.dir]).trim());
  }
  return out;
}

before(async () => {
  t = await twoParties();
  operator(t.us, 'us/fbi', 'alice', PASSWORD, { admin: true });
  operator(t.us, 'us/nsc', 'nora', PASSWORD);
  operator(t.ru, 'ru/fsb', 'boris', PASSWORD);
  operator(t.ru, 'ru/kremlin', 'kira', PASSWORD);
  // A second channel whose inquiries must be acknowledged within 2 seconds.
  const terms = path.join(t.us.tmp, 'short.toml');
  fs.writeFileSync(
    terms,
    [
      'title = "Leaders\' staff channel (test deadlines)"',
      'start = "2021-01-01T00:00:00Z"',
      'notice = "0s"',
      'languages = ["en", "ru"]',
      'ack_within = "2s"',
      'answer_within = "3s"',
      '[[channel]]',
      'offices = ["us/nsc", "ru/kremlin"]',
      'kinds = ["message", "inquiry", "ack", "answer"]',
    ].join('\n'),
  );
  shortAgreement = await agree(t.us, t.ru, terms);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await stopAll();
});

describe('an inquiry from us/fbi to ru/fsb, through both consoles', () => {
  let alice, boris, inquiryId;

  test('both operators sign in and see their channel', async () => {
    alice = await signIn(t.usNode, 'alice');
    boris = await signIn(t.ruNode, 'boris');
    for (const [page, text] of [[alice, 'us/fbi ↔ ru/fsb'], [boris, 'ru/fsb ↔ us/fbi']]) {
      const row = page.locator('.channel-row');
      await row.first().waitFor();
      assert.equal(await row.count(), 1, 'one channel in force for the office');
      assert.equal((await row.locator('.channel-link').innerText()).trim(), text);
      assert.match(await row.innerText(), /up since/, 'the link is shown up');
    }
    // Boris waits on his inquiry list with live updates on.
    await boris.goto(`${t.ruNode.url}/inquiries`);
    await boris.waitForSelector('body[data-live="on"]');
    await boris.evaluate(() => { window.__notReloaded = true; });
  });

  test('alice sends an inquiry with an attachment', async () => {
    const file = path.join(t.us.tmp, 'indicators.txt');
    fs.writeFileSync(file, 'evil.example\n203.0.113.7\n');
    await alice.goto(`${t.usNode.url}/compose?channel=us/fbi+ru/fsb&kind=inquiry`);
    assert.ok(await alice.isChecked('input[name=kind][value=inquiry]'));
    await alice.fill('#subject', 'Ransomware attacks on US companies');
    await alice.fill('#text', 'Please identify the operators behind the indicators attached.');
    await alice.fill('#lang', 'en');
    await alice.locator('summary', { hasText: 'another language' }).click();
    await alice.fill('#tr_text', 'Просим установить операторов по приложенным индикаторам.');
    await alice.fill('#tr_lang', 'ru');
    await alice.setInputFiles('#attachments', file);
    await Promise.all([alice.waitForNavigation(), alice.click('#send')]);
    const flash = await alice.locator('.flash').innerText();
    const m = flash.match(/Inquiry (us:\d+) sent to ru\/fsb/);
    assert.ok(m, `the flash names the new inquiry: ${flash}`);
    inquiryId = m[1];
    // textContent, not innerText: entries off screen are not rendered
    // (content-visibility: auto), and innerText reads only rendered text.
    const entry = alice.locator(`[id="e-${inquiryId}"]`);
    assert.match(await entry.textContent(), /Ransomware attacks on US companies/);
    assert.equal(await entry.locator('.side-by-side .text').count(), 2, 'both languages side by side');
    assert.match(await entry.locator('.attachments').textContent(), /indicators\.txt/);
    await shot(alice, 'console-timeline-sent');
  });

  test('boris sees it arrive live, without a reload', async () => {
    const notice = boris.locator('.notice', { hasText: `New inquiry from us/fbi (${inquiryId})` });
    await notice.waitFor({ timeout: 20_000 });
    await boris.locator(`.inquiry-row[data-id="${inquiryId}"]`).waitFor({ timeout: 10_000 });
    assert.equal(await boris.evaluate(() => window.__notReloaded), true, 'the page was not reloaded');
    await Promise.all([boris.waitForNavigation(), notice.locator('a').click()]);
    assert.equal(new URL(boris.url()).pathname, `/inquiries/${inquiryId}`);
    assert.match(await boris.locator('main').innerText(), /Please identify the operators/);
    // The attachment is decrypted for the receiving office.
    const [dl] = await Promise.all([boris.waitForEvent('download'), boris.click('.attachments a')]);
    const got = path.join(t.ru.tmp, 'got.txt');
    await dl.saveAs(got);
    assert.equal(fs.readFileSync(got, 'utf8'), 'evil.example\n203.0.113.7\n');
  });

  test('boris acknowledges and answers', async () => {
    await Promise.all([boris.waitForNavigation(), boris.click('#ack')]);
    assert.match(await boris.locator('.flash').innerText(), new RegExp(`Acknowledged ${inquiryId}`));
    assert.equal(await boris.locator('#ack').count(), 0, 'no second acknowledgement is offered');
    // A refused answer keeps what was typed and says what to fix.
    await boris.fill('#text', 'The named servers are being examined.');
    await boris.locator('#answer-form summary', { hasText: 'STIX' }).click();
    await boris.fill('#stix', '{"type": "bundle"');
    await Promise.all([boris.waitForNavigation(), boris.click('#send-answer')]);
    assert.match(await boris.locator('#form-errors').innerText(), /not JSON/);
    assert.equal(await boris.inputValue('#text'), 'The named servers are being examined.');
    await boris.fill('#stix', '');
    await boris.fill('#lang', 'ru');
    await Promise.all([boris.waitForNavigation(), boris.click('#send-answer')]);
    assert.match(await boris.locator('.flash').innerText(), /Answer ru:\d+ sent/);
    assert.match(await boris.locator('#inquiry-status').innerText(), /answered/);
    await shot(boris, 'console-inquiry-answered');
  });

  test('alice sees it answered in time and takes the delivery proof to hotline verify', async () => {
    await alice.goto(`${t.usNode.url}/inquiries/${inquiryId}`);
    await alice.waitForFunction(
      () => /answered .*in time/.test(document.getElementById('inquiry-deadline')?.textContent ?? ''),
      null,
      { timeout: 20_000 },
    );
    assert.match(await alice.locator('#answers').innerText(), /The named servers are being examined/);
    await Promise.all([alice.waitForNavigation(), alice.click('#evidence-link')]);
    const delivery = alice.locator('.proof', { hasText: 'Delivery' });
    assert.match(await delivery.locator('.verdict').innerText(), /^Verified/);
    const [dl] = await Promise.all([alice.waitForEvent('download'), delivery.locator('a.button').click()]);
    const file = path.join(ARTIFACTS, 'delivery-bundle.json');
    await dl.saveAs(file);
    const out = hotline(['verify', file, ...keyArgs()]);
        assert.match(out, /ru\/fsb/, `the verifier names the receiving office: ${out}`);
    // The answered bundle too.
    const answered = alice.locator('.proof', { hasText: 'Answered' });
    assert.match(await answered.locator('.verdict').innerText(), /^Verified/);
    const [dl2] = await Promise.all([alice.waitForEvent('download'), answered.locator('a.button').click()]);
    const file2 = path.join(ARTIFACTS, 'answered-bundle.json');
    await dl2.saveAs(file2);
    hotline(['verify', file2, ...keyArgs()]);
    await shot(alice, 'console-evidence', { fullPage: true });
    // The whole exchange on alice's timeline (one of the README's screenshots).
    await alice.goto(`${t.usNode.url}/channels/us/fbi/ru/fsb`);
    await alice.locator('.entry.answer').waitFor();
    await shot(alice, 'console-timeline', { fullPage: true });
  });

  test('a message outside every agreement, an oversized form and a malformed one are refused; nothing is written', async () => {
    await alice.goto(`${t.usNode.url}/compose`);
    const csrf = await alice.inputValue('#compose input[name=csrf]');
    const before = await logSize(t.usNode);
    const results = await alice.evaluate(async (csrf) => {
      const send = async (fields, extra) => {
        const fd = new FormData();
        for (const [k, v] of Object.entries(fields)) fd.append(k, v);
        if (extra) fd.append('attachments', extra, 'big.bin');
        const r = await fetch('/compose', { method: 'POST', body: fd });
        return [r.status, await r.text()];
      };
      return {
        // us/fbi ↔ ru/kremlin: no agreement opens that channel.
        outside: await send({ csrf, kind: 'message', channel: 'us/fbi ru/kremlin', text: 'Hello' }),
        big: await send(
          { csrf, kind: 'message', channel: 'us/fbi ru/fsb', text: 'Too big' },
          new Blob([new Uint8Array(3 * 1024 * 1024)]),
        ),
        malformed: await (async () => {
          const r = await fetch('/compose', {
            method: 'POST',
            headers: { 'Content-Type': 'multipart/form-data; boundary=XYZ' },
            body: '--XYZ\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n' + csrf + '\r\n--XY',
          });
          return [r.status, await r.text()];
        })(),
        notAKind: await send({ csrf, kind: 'receipt', channel: 'us/fbi ru/fsb', text: 'x' }),
      };
    }, csrf);
    assert.equal(results.outside[0], 403, results.outside[1]);
    assert.match(results.outside[1], /Not sent: .*agreement/);
    assert.match(results.outside[1], /Hello/, 'the typed text is kept');
    assert.equal(results.big[0], 413, results.big[1].slice(0, 300));
    assert.match(results.big[1], /attach fewer or smaller/);
    assert.equal(results.malformed[0], 400, results.malformed[1].slice(0, 300));
    assert.match(results.malformed[1], /could not be read/);
    assert.equal(results.notAKind[0], 400);
    assert.match(results.notAKind[1], /choose message or inquiry/);
    assert.equal(await logSize(t.usNode), before, 'nothing was appended');
  });

  test('a forged CSRF token is refused and writes nothing', async () => {
    await alice.goto(`${t.usNode.url}/compose?channel=us/fbi+ru/fsb&kind=message`);
    await alice.fill('#text', 'This should never be sent.');
    await alice.evaluate(() => {
      document.querySelector('#compose input[name=csrf]').value = 'forged'.repeat(10);
    });
    const before = await logSize(t.usNode);
    const [resp] = await Promise.all([alice.waitForNavigation(), alice.click('#send')]);
    assert.equal(resp.status(), 403);
    assert.match(await alice.locator('#error-message').innerText(), /CSRF token does not match/);
    assert.equal(await logSize(t.usNode), before, 'nothing was appended');
  });

  test('an operator of another office cannot see or act on the inquiry', async () => {
    const kira = await signIn(t.ruNode, 'kira');
    const resp = await kira.goto(`${t.ruNode.url}/inquiries/${inquiryId}`);
    assert.equal(resp.status(), 403);
    assert.match(await kira.locator('#error-message').innerText(), /you act for neither/);
    // Even with her own valid CSRF token, a direct post is refused.
    await kira.goto(`${t.ruNode.url}/`);
    const csrf = await kira.inputValue('form[action="/logout"] input[name=csrf]');
    const before = await logSize(t.ruNode);
    const status = await kira.evaluate(
      async ([id, csrf]) => {
        const r = await fetch(`/inquiries/${id}/ack`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ csrf }),
        });
        return r.status;
      },
      [inquiryId, csrf],
    );
    assert.equal(status, 403);
    assert.equal(await logSize(t.ruNode), before, 'nothing was appended');
    await kira.context().close();
  });
});

describe('signing in', () => {
  test('a wrong password is refused, and repeated failures make this address wait, locking nobody out', async () => {
    const page = await newPage(browser);
    await page.goto(`${t.usNode.url}/login`);
    for (let i = 1; i <= 5; i++) {
      await page.fill('#name', 'nora');
      await page.fill('#password', `wrong password ${i}`);
      const [resp] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
      assert.equal(resp.status(), 401, `attempt ${i}`);
      assert.match(await page.locator('#login-error').innerText(), /wrong name or password/);
      assert.equal(await page.inputValue('#name'), 'nora', 'the name is kept');
    }
    await page.fill('#password', PASSWORD);
    const [resp] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    assert.equal(resp.status(), 429, 'this address waits, even with the right password');
    assert.match(await page.locator('#login-error').innerText(), /Too many failed sign-ins from your address/);
    const wait = Number(resp.headers()['retry-after']);
    assert.ok(wait >= 1 && wait <= 5, `Retry-After ${wait}`);
    await new Promise((r) => setTimeout(r, wait * 1000 + 200));
    await page.fill('#password', PASSWORD);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    assert.equal(new URL(page.url()).pathname, '/', 'after the wait the right password works');
    await page.context().close();
  });

  test('a sign-in form from elsewhere is refused', async () => {
    const r = await fetch(`${t.usNode.url}/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: 'http://evil.example' },
      body: new URLSearchParams({ name: 'alice', password: PASSWORD, csrf: 'x' }),
      redirect: 'manual',
    });
    assert.equal(r.status, 403);
    assert.ok(!(r.headers.get('set-cookie') ?? '').includes('hotline_session'), 'no session is set');
  });

  test('signing out ends the session', async () => {
    const page = await signIn(t.usNode, 'alice');
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'hotline_session_us');
    assert.ok(session, 'a session cookie named for the party');
    assert.equal(session.httpOnly, true);
    assert.equal(session.secure, true);
    assert.equal(session.sameSite, 'Strict');
    await Promise.all([page.waitForNavigation(), page.click('form[action="/logout"] button')]);
    assert.match(page.url(), /\/login$/);
    // The old cookie, replayed, no longer opens a page.
    const r = await fetch(`${t.usNode.url}/inquiries`, {
      headers: { Cookie: `hotline_session_us=${session.value}` },
      redirect: 'manual',
    });
    assert.equal(r.status, 303);
    await page.context().close();
  });
});

describe('deadlines and the duty officer', () => {
  test('an overdue inquiry raises a visible alert without a reload', async () => {
    const nora = await signIn(t.usNode, 'nora');
    await nora.waitForSelector('body[data-live="on"]');
    assert.equal(await nora.isHidden('#overdue'), true, 'nothing overdue yet');
    await nora.goto(`${t.usNode.url}/compose?channel=us/nsc+ru/kremlin&kind=inquiry`);
    await nora.fill('#subject', 'Call preparation');
    await nora.fill('#text', 'Please confirm the time for the call.');
    await Promise.all([nora.waitForNavigation(), nora.click('#send')]);
    const id = (await nora.locator('.flash').innerText()).match(/Inquiry (us:\d+)/)[1];
    await nora.waitForSelector('body[data-live="on"]');
    await nora.evaluate(() => { window.__notReloaded = true; });
    await nora.locator('#overdue', { hasText: id }).waitFor({ state: 'visible', timeout: 20_000 });
    assert.match(await nora.locator('#overdue').innerText(), /not acknowledged in time/);
    assert.equal(await nora.evaluate(() => window.__notReloaded), true);
    await nora.locator(`[id="e-${id}"].overdue`).waitFor({ timeout: 10_000 });
    await nora.context().close();
  });
});

describe('usable at 3 a.m.', () => {
  test('a narrow screen has no sideways scrolling, and the keyboard reaches everything', async () => {
    const page = await signIn(t.usNode, 'alice', PASSWORD, { width: 390, height: 844 });
    for (const p of ['/', '/inquiries', '/compose', '/agreements', '/health', '/channels/us/fbi/ru/fsb']) {
      await page.goto(`${t.usNode.url}${p}`);
      const [sw, w] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
      assert.ok(sw <= w, `${p}: page is ${sw}px wide on a ${w}px screen`);
    }
    await shot(page, 'console-narrow-timeline', { fullPage: true });
    await page.goto(`${t.usNode.url}/`);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.className), 'skip');
    await page.keyboard.press('Enter');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('g').then(() => page.keyboard.press('i'))]);
    assert.equal(new URL(page.url()).pathname, '/inquiries');
    await page.context().close();
  });

  test('an admin signs an agreement from the console; an operator cannot', async () => {
    const file = path.join(t.ru.tmp, 'propose.toml');
    fs.writeFileSync(
      file,
      [
        'title = "Defence ministers\' line"',
        'start = "2021-01-01T00:00:00Z"',
        'notice = "7d"',
        'languages = ["en", "ru"]',
        '[[channel]]',
        'offices = ["ru/kremlin", "us/nsc"]',
        'kinds = ["message"]',
      ].join('\n'),
    );
    const id = JSON.parse(hotline(['agreement', 'propose', '--file', file, '--dir', t.ru.dir, '--json'])).id;
    const nora = await signIn(t.usNode, 'nora');
    const alice = await signIn(t.usNode, 'alice');
    await waitUntil(30, 'the proposal reaching us', async () => {
      const r = await alice.goto(`${t.usNode.url}/agreements/${id}`);
      return r.status() === 200;
    });
    const resp = await nora.goto(`${t.usNode.url}/agreements/${id}`);
    assert.equal(resp.status(), 200, 'operators can read agreements');
    assert.equal(await nora.locator('#sign').count(), 0, 'but are offered no signing');
    await Promise.all([alice.waitForNavigation(), alice.click('#sign')]);
    assert.match(await alice.locator('.flash').innerText(), new RegExp(`Signed ${id}`));
    assert.match(await alice.locator('#agreement-state').innerText(), /in force/);
    await nora.context().close();
    await alice.context().close();
  });
});
