// The command palette over many items, in headless Chromium on the dashboard.
//
//   node bench/palette.mjs --url URL --key KEY [--expect 12000] [--runs 5]
//
// Opens /devboxes, presses Ctrl+K and waits until the snapshot list is in (the
// palette's live count no longer says it is loading). Then, for each query, in the
// page: the input's value is set and an `input` event dispatched (what a keystroke
// does), and the time runs until the frame with the new results is produced (a
// MutationObserver on the listbox, then the next animation frame and a task after it).
// Each query is typed `runs` times, cleared in between; the figure is the median over
// all. Prints one JSON object. Nothing asserts.

import { freshPage, launch } from './load.mjs';

function args() {
  const out = { runs: 5, key: 'bench', expect: 12000, timeout: 120000 };
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i += 2) out[a[i].replace(/^--/, '')] = a[i + 1];
  out.runs = Number(out.runs);
  out.expect = Number(out.expect);
  out.timeout = Number(out.timeout);
  return out;
}

const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  const n = v.length;
  return n === 0 ? null : n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
};

/** In the page: sets the query and resolves with ms until the results were painted. */
function typeAndTime(q) {
  return new Promise((resolve) => {
    const input = document.querySelector('[role=combobox]');
    if (input.value === q) { resolve({ ms: 0, options: -1 }); return; }
    const list = document.getElementById('sd-palette-list');
    const mo = new MutationObserver(() => {
      mo.disconnect();
      requestAnimationFrame(() => setTimeout(() => resolve({
        ms: performance.now() - t0,
        options: document.querySelectorAll('[role=option]').length,
      }), 0));
    });
    mo.observe(list, { childList: true, subtree: true, characterData: true, attributes: true });
    const t0 = performance.now();
    input.value = q;
    input.dispatchEvent(new Event('input', { bubbles: true }));
  });
}

async function main() {
  const o = args();
  const browser = await launch();
  const { context, page } = await freshPage(browser, o.key);
  await page.goto(`${o.url}/devboxes`);
  await page.locator('[data-testid=devbox-row]').first().waitFor({ timeout: o.timeout });
  await page.keyboard.press('Control+k');
  await page.locator('[role=combobox]').waitFor();
  await page.waitForFunction(() => {
    const c = document.querySelector('[data-testid=palette-count]')?.textContent ?? '';
    return c && !c.includes('loading');
  }, null, { timeout: o.timeout });
  // How many items it searches: the snapshots it loaded are what the bench seeded.
  const ids = await page.evaluate(async (key) => {
    const r = await fetch('/v1/devboxes/disk_snapshots?limit=1&include_total_count=true', {
      headers: { authorization: `Bearer ${key}` },
    });
    const j = await r.json();
    return { total: j.total_count, first: j.snapshots[0]?.id ?? '' };
  }, o.key);
  const queries = ['bench', 'snap 11', ids.first.slice(5, 11), 'zzqx', 'restore bench-1'];
  const each = {};
  const all = [];
  for (const q of queries) {
    each[q] = [];
    for (let i = 0; i < o.runs; i += 1) {
      await page.evaluate(typeAndTime, '');
      const r = await page.evaluate(typeAndTime, q);
      each[q].push(r);
      all.push(r.ms);
    }
  }
  const out = {
    items_snapshots: ids.total,
    expect: o.expect,
    runs: o.runs,
    results_painted_ms_median: median(all),
    results_painted_ms_max: Math.max(...all),
    per_query: Object.fromEntries(Object.entries(each).map(([q, rs]) => [q, {
      median_ms: median(rs.map((r) => r.ms)), options: rs[0].options,
    }])),
  };
  console.log(JSON.stringify(out, null, 2));
  await context.close();
  await browser.close();
}

main().catch((e) => { console.error(e); process.exit(1); });
