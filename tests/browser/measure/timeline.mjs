// Measures the channel timeline with 1,000 entries in headless Chromium:
// page weight (HTML, CSS, JS as transferred) and time to first render
// (first contentful paint), over several loads. A measurement, not a test:
// run it by hand and compare figures from one run side by side.
//
//   HOTLINE_BIN=target/release/hotline node tests/browser/measure/timeline.mjs [ENTRIES] [LOADS]

import fs from 'node:fs';
import { operator, stopAll, twoParties, waitUntil } from '../lib/nodes.mjs';
import { launch, newPage } from '../lib/browser.mjs';

const ENTRIES = Number(process.argv[2] ?? 1000);
const LOADS = Number(process.argv[3] ?? 7);
const PASSWORD = 'correct horse battery staple';

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function post(node, path, body) {
  const r = await fetch(`${node.url}${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${node.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
}

async function channelSize(node) {
  const r = await fetch(`${node.url}/v1/status`, { headers: { Authorization: `Bearer ${node.token}` } });
  return (await r.json()).peers[0].mirror_size;
}

try {
  const t = await twoParties();
  operator(t.us, 'us/fbi', 'alice', PASSWORD);
  // Half the entries are messages (a quarter each way); the other half are
  // the receipts each message gets.
  const each = ENTRIES / 4;
  process.stderr.write(`sending ${ENTRIES / 2} messages…\n`);
  const text = (i, who) =>
    `Message ${i} from ${who}: the line was tested at the hour, no faults found; next test at the next hour as agreed.`;
  for (let i = 0; i < each; i += 25) {
    const batch = [];
    for (let j = i; j < Math.min(i + 25, each); j++) {
      batch.push(post(t.usNode, '/v1/messages', { from: 'us/fbi', to: 'ru/fsb', text: text(j, 'us/fbi'), lang: 'en' }));
      batch.push(post(t.ruNode, '/v1/messages', { from: 'ru/fsb', to: 'us/fbi', text: text(j, 'ru/fsb'), lang: 'ru' }));
    }
    await Promise.all(batch);
  }
  const usBase = (await (await fetch(`${t.usNode.url}/healthz`)).json()).log_size;
  await waitUntil(120, 'every message receipted on both sides', async () => (await channelSize(t.usNode)) >= usBase);
  await new Promise((r) => setTimeout(r, 3000));

  const browser = await launch();
  const page = await newPage(browser);
  await page.goto(`${t.usNode.url}/login`);
  await page.fill('#name', 'alice');
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  const base = `${t.usNode.url}/channels/us/fbi/ru/fsb`;
  // Variants, measured interleaved so that machine noise falls on all alike.
  const variants = {
    [`all ${ENTRIES} entries (?limit=${ENTRIES})`]: { url: `${base}?limit=${ENTRIES}`, plainCss: false },
    [`all ${ENTRIES}, without content-visibility`]: { url: `${base}?limit=${ENTRIES}`, plainCss: true },
    'default view (latest 200)': { url: base, plainCss: false },
  };
  let plain = false;
  await page.context().route('**/static/console.css*', async (route) => {
    const r = await route.fetch();
    let body = await r.text();
    if (plain) body = body.replace(/\.timeline > \.entry \{[^}]*\}/, '');
    await route.fulfill({ response: r, body, headers: { ...r.headers(), 'cache-control': 'no-store' } });
  });
  const runs = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let i = 0; i < LOADS; i++) {
    for (const [name, v] of Object.entries(variants)) {
      plain = v.plainCss;
      // A fresh tab per load (same session): Chromium reports the first
      // contentful paint of a tab's first navigation only.
      const tab = await page.context().newPage();
      await tab.goto(v.url, { waitUntil: 'load' });
      await tab.waitForFunction(() => performance.getEntriesByName('first-contentful-paint').length > 0);
      runs[name].push(
        await tab.evaluate(() => {
          const nav = performance.getEntriesByType('navigation')[0];
          const res = performance.getEntriesByType('resource');
          const fcp = performance.getEntriesByName('first-contentful-paint')[0];
          return {
            rows: document.querySelectorAll('.timeline > li').length,
            html: nav.encodedBodySize,
            assets: res.reduce((n, r) => n + (r.decodedBodySize || 0), 0),
            server: nav.responseStart - nav.requestStart,
            fcp: fcp ? fcp.startTime : null,
            load: nav.loadEventEnd,
          };
        }),
      );
      await tab.close();
    }
  }
  const report = {};
  for (const [name, rs] of Object.entries(runs)) {
    report[name] = {
      entries_on_page: rs[0].rows,
      html_bytes: rs[0].html,
      css_js_bytes: rs[0].assets,
      server_ms_median: Math.round(median(rs.map((r) => r.server))),
      first_contentful_paint_ms_median: Math.round(median(rs.map((r) => r.fcp))),
      fcp_min: Math.round(Math.min(...rs.map((r) => r.fcp))),
      fcp_max: Math.round(Math.max(...rs.map((r) => r.fcp))),
      load_ms_median: Math.round(median(rs.map((r) => r.load))),
    };
  }
  console.log(JSON.stringify({ loads: LOADS, ...report }, null, 2));
  if (process.env.OUT) fs.writeFileSync(process.env.OUT, JSON.stringify({ report, runs }, null, 2));
  await browser.close();
} finally {
  await stopAll();
}
