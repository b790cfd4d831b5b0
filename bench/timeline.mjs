// Big data: the timeline of one devbox with many snapshots, in headless Chromium.
//
//   node bench/timeline.mjs --url URL --devbox DBX --key KEY [--expect 10000] [--runs 3]
//
// Per run (fresh context, cache disabled):
//   * first render: navigation → first timeline node painted, and → the whole first page
//     (50 nodes) painted; and "render after data":
//     first node painted − the end of the last snapshot-list response that was in before
//     the node was (resource timing), i.e. the app's own work once the data it showed
//     was in. (The app may render page 1 from the first list pages while later ones are
//     still loading: responses that end after the node is in the DOM are not counted.)
//     "render after data and shell" counts from the app's first contentful paint instead
//     when that came later (the main thread could not have handled the list before);
//   * the whole list: navigation → the last list response, and the requests and bytes of
//     the whole list (not just those before the first paint);
//   * to the end: the timeline is paged (50 per page), so "scroll to the end" is paging to
//     the last page — an in-app navigation (a link click the router handles) from page 1
//     to the last page, until the last page's nodes are painted; and one "next page".
//     Measured once the whole list is in (the loading indicator is gone), so it times
//     paging, not the download;
//   * DOM: timeline nodes and elements in the document on page 1 and on the last page;
//   * JS heap (after GC) with the whole list loaded.
// Prints one JSON object (medians over the runs, and each run). Nothing asserts.

import { freshPage, heapMB, launch } from './load.mjs';

function args() {
  const out = { runs: 3, key: 'bench', expect: 10000, timeout: 60000 };
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i += 2) out[a[i].replace(/^--/, '')] = a[i + 1];
  out.runs = Number(out.runs);
  out.expect = Number(out.expect);
  out.timeout = Number(out.timeout);
  return out;
}

const NODE = '[data-testid=snapshot-node]';
const median = (xs) => {
  const v = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  const n = v.length;
  return n === 0 ? null : n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
};

// In the page: resolves with the time the frame containing `cond()` was produced.
function paintedWhen(cond, timeout) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const check = () => {
      if (cond()) {
        const seen = performance.now();
        requestAnimationFrame(() => setTimeout(() => resolve({ seen, painted: performance.now() }), 0));
        return true;
      }
      if (performance.now() - t0 > timeout) { reject(new Error('timeout')); return true; }
      return false;
    };
    if (check()) return;
    const mo = new MutationObserver(() => { if (check()) mo.disconnect(); });
    mo.observe(document, { childList: true, subtree: true, characterData: true });
  });
}

// Records the first node, and the whole first page (`full` nodes: an app may draw the
// rows a screen holds first and the rest of the page a frame later).
function firstNodeProbe({ sel, full }) {
  const seen = () => {
    if (window.__sdFirst === undefined && document.querySelector(sel)) {
      window.__sdFirst = performance.now();
      requestAnimationFrame(() => setTimeout(() => { window.__sdFirstPainted = performance.now(); }, 0));
    }
    if (window.__sdFull === undefined && document.querySelectorAll(sel).length >= full) {
      window.__sdFull = performance.now();
      requestAnimationFrame(() => setTimeout(() => { window.__sdFullPainted = performance.now(); }, 0));
    }
  };
  new MutationObserver(seen).observe(document, { childList: true, subtree: true });
}

async function oneRun(browser, o) {
  const { context, page, cdp } = await freshPage(browser, o.key);
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.addInitScript(firstNodeProbe, { sel: NODE, full: Math.min(50, o.expect) });
  await page.goto(`${o.url}/devboxes/${o.devbox}`, { waitUntil: 'commit' });
  await page.waitForFunction(() => window.__sdFirstPainted !== undefined, null, { timeout: o.timeout, polling: 50 });
  const first = await page.evaluate((sel) => {
    const lists = performance.getEntriesByType('resource')
      .filter((r) => r.name.includes('/v1/devboxes/disk_snapshots?') || r.name.includes('/v1/devboxes/disk_snapshots/?'))
      .filter((r) => r.responseEnd <= window.__sdFirst);
    const dataEnd = lists.length ? Math.max(...lists.map((r) => r.responseEnd)) : null;
    const pagerText = document.querySelector('.sd-pager__num')?.textContent || '';
    return {
      painted: window.__sdFirstPainted,
      in_dom: window.__sdFirst,
      list_requests_before: lists.length,
      data_end: dataEnd,
      fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null,
      nodes: document.querySelectorAll(sel).length,
      elements: document.getElementsByTagName('*').length,
      pager: pagerText,
    };
  }, NODE);
  await page.waitForFunction(() => window.__sdFullPainted !== undefined, null, { timeout: o.timeout, polling: 50 });
  const fullPainted = await page.evaluate(() => window.__sdFullPainted);
  // The rest of the list (if the app loads it in the background): wait until it is in.
  await page.waitForFunction(() => !document.querySelector('[data-testid=timeline-loading]'), null, { timeout: o.timeout, polling: 50 });
  const whole = await page.evaluate(() => {
    const lists = performance.getEntriesByType('resource')
      .filter((r) => r.name.includes('/v1/devboxes/disk_snapshots?') || r.name.includes('/v1/devboxes/disk_snapshots/?'));
    return {
      list_requests: lists.length,
      list_bytes: lists.reduce((s, r) => s + (r.encodedBodySize || 0), 0),
      first_end: lists.length ? Math.min(...lists.map((r) => r.responseEnd)) : null,
      all_end: lists.length ? Math.max(...lists.map((r) => r.responseEnd)) : null,
    };
  });
  const m = /of\s+(\d+)/.exec(first.pager);
  const lastPage = m ? Number(m[1]) : Math.ceil(o.expect / 50);

  // One "next page", then straight to the last page: in-app navigations (link clicks).
  const nav = async (p) => page.evaluate(async ({ url, p, sel, timeout, paintedWhenSrc }) => {
    // eslint-disable-next-line no-new-func
    const paintedWhen = new Function(`return (${paintedWhenSrc})`)();
    const want = `page ${p} of`;
    const a = document.createElement('a');
    a.href = url;
    a.textContent = 'bench';
    a.style.position = 'fixed';
    a.style.left = '0';
    a.style.top = '0';
    document.body.appendChild(a);
    const t0 = performance.now();
    a.click();
    const r = await paintedWhen(() => {
      const t = document.querySelector('.sd-pager__num')?.textContent || '';
      return t.startsWith(want) && document.querySelector(sel);
    }, timeout);
    a.remove();
    return { ms: r.painted - t0, nodes: document.querySelectorAll(sel).length, elements: document.getElementsByTagName('*').length, path: location.pathname + location.search };
  }, { url: `/devboxes/${o.devbox}?page=${p}`, p, sel: NODE, timeout: o.timeout, paintedWhenSrc: paintedWhen.toString() });

  const next = await nav(2);
  const last = await nav(lastPage);
  await page.waitForTimeout(500);
  const heap = await heapMB(cdp);
  await context.close();
  return {
    first_painted_ms: first.painted,
    page1_painted_ms: fullPainted,
    render_after_data_ms: first.data_end !== null ? first.painted - first.data_end : null,
    // The same, but from when the app's shell was first painted if that came later: a
    // list that answers while the app still lays out its first frame waits for it.
    render_after_data_and_shell_ms: first.data_end !== null ? first.painted - Math.max(first.data_end, first.fcp ?? 0) : null,
    shell_painted_ms: first.fcp,
    list_requests: whole.list_requests,
    list_requests_before_paint: first.list_requests_before,
    list_bytes: whole.list_bytes,
    data_end_ms: first.data_end,
    list_first_end_ms: whole.first_end,
    list_all_end_ms: whole.all_end,
    pager: first.pager,
    nodes_page1: first.nodes,
    elements_page1: first.elements,
    next_page_ms: next.ms,
    last_page: lastPage,
    to_last_page_ms: last.ms,
    nodes_last_page: last.nodes,
    elements_last_page: last.elements,
    heap_used_mb: heap.used,
    errors,
  };
}

async function main() {
  const o = args();
  const browser = await launch();
  try {
    const runs = [];
    for (let i = 0; i < o.runs; i++) runs.push(await oneRun(browser, o));
    const med = (k) => median(runs.map((r) => r[k]));
    console.log(JSON.stringify({
      devbox: o.devbox,
      snapshots: o.expect,
      runs: runs.length,
      first_painted_ms: med('first_painted_ms'),
      page1_painted_ms: med('page1_painted_ms'),
      render_after_data_ms: med('render_after_data_ms'),
      render_after_data_and_shell_ms: med('render_after_data_and_shell_ms'),
      shell_painted_ms: med('shell_painted_ms'),
      data_end_ms: med('data_end_ms'),
      list_first_end_ms: med('list_first_end_ms'),
      list_all_end_ms: med('list_all_end_ms'),
      next_page_ms: med('next_page_ms'),
      to_last_page_ms: med('to_last_page_ms'),
      nodes_page1: Math.max(...runs.map((r) => r.nodes_page1)),
      nodes_last_page: Math.max(...runs.map((r) => r.nodes_last_page)),
      elements_max: Math.max(...runs.flatMap((r) => [r.elements_page1, r.elements_last_page])),
      heap_used_mb: med('heap_used_mb'),
      pager: runs[0]?.pager,
      errors: runs.flatMap((r) => r.errors).slice(0, 5),
      each: runs,
    }));
  } finally {
    await browser.close();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
