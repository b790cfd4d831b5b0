// Fan-out as a person does it, in headless Chromium: open a snapshot's page, Fan out,
// N children, all at once, press Fan out, wait until the batch page says "N of N
// running". Counts the page's /v1 requests from the press to that moment.
//
//   node bench/fanout.mjs --url URL --snapshot SNP --key KEY --count 20 [--cap 20]
//
// Times are the page's own clock (performance.now()), stamped by a MutationObserver:
// from the dialog's submit to [data-testid=fanout-state] reading "N of N running".
// Prints one JSON object ({"secs", "requests", "count"}), or {"error"} when the page
// never gets there within --timeout. Nothing asserts.

import { launch, freshPage } from './load.mjs';

function args() {
  const out = { key: 'bench', count: 20, cap: null, timeout: 120000 };
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i += 2) out[a[i].replace(/^--/, '')] = a[i + 1];
  out.count = Number(out.count);
  out.cap = Number(out.cap ?? out.count);
  out.timeout = Number(out.timeout);
  return out;
}

function probe(count) {
  const check = () => {
    const s = document.querySelector('[data-testid="fanout-state"]')?.textContent || '';
    if (window.__sdRunning === undefined && s.startsWith(`${count} of ${count} running`)) {
      window.__sdRunning = performance.now();
    }
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true, characterData: true });
  document.addEventListener('submit', (e) => {
    if (e.target.closest('[role="dialog"]') && window.__sdSubmit === undefined) {
      window.__sdSubmit = performance.now();
    }
  }, true);
}

const o = args();
const browser = await launch();
try {
  const { page } = await freshPage(browser, o.key);
  await page.addInitScript(probe, o.count);
  let counting = false;
  let requests = 0;
  page.on('request', (r) => {
    if (counting && new URL(r.url()).pathname.startsWith('/v1/')) requests += 1;
  });
  await page.goto(`${o.url}/snapshots/${encodeURIComponent(o.snapshot)}`);
  await page.getByRole('button', { name: 'Fan out', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: /^Fan out from/ });
  await dialog.getByLabel('Children').fill(String(o.count));
  await dialog.getByLabel('At once').fill(String(o.cap));
  counting = true;
  await dialog.getByRole('button', { name: 'Fan out', exact: true }).click();
  await page.waitForFunction(() => window.__sdRunning !== undefined, null, { timeout: o.timeout });
  counting = false;
  const [t0, t1] = await page.evaluate(() => [window.__sdSubmit, window.__sdRunning]);
  // The batch page goes on polling at its own pace; stop counting at "all running".
  console.log(JSON.stringify({ count: o.count, cap: o.cap, secs: (t1 - t0) / 1000, requests }));
} catch (e) {
  console.log(JSON.stringify({ error: String(e.message || e).split('\n')[0] }));
} finally {
  await browser.close();
}
