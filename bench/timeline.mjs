// Big data: the timeline of one devbox with many snapshots, in headless Chromium.
//
//   node bench/timeline.mjs --url URL --devbox DBX --key KEY [--expect 10000] [--runs 3]
//
// Per run (fresh context, cache disabled):
//   * first render: navigation → first timeline node painted; and "render after data":
//     first node painted − the end of the last snapshot-list response (resource timing),
//     i.e. the app's own work once the data is in;
//   * to the end: the timeline is paged (50 per page), so "scroll to the end" is paging to
//     the last page — an in-app navigation (a link click the router handles) from page 1
//     to the last page, until the last page's nodes are painted; and one "next page";
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

function firstNodeProbe(sel) {
  const seen = () => {
    if (window.__sdFirst !== undefined || !document.querySelector(sel)) return;
    window.__sdFirst = performance.now();
    requestAnimationFrame(() => setTimeout(() => { window.__sdFirstPainted = performance.now(); }, 0));
  };
  new MutationObserver(seen).observe(document, { childList: true, subtree: true });
}

async function oneRun(browser, o) {
  const { context, page, cdp } = await freshPage(browser, o.key);
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.addInitScript(firstNodeProbe, NODE);
  await page.goto(`${o.url}/devboxes/${o.devbox}`, { waitUntil: 'commit' });
  await page.waitForFunction(() => window.__sdFirstPainted !== undefined, null, { timeout: o.timeout, polling: 50 });
  const first = await page.evaluate((sel) => {
    const lists = performance.getEntriesByType('resource')
      .filter((r) => r.name.includes('/v1/devboxes/disk_snapshots?') || r.name.includes('/v1/devboxes/disk_snapshots/?'));
    const dataEnd = lists.length ? Math.max(...lists.map((r) => r.responseEnd)) : null;
    const pagerText = document.querySelector('.sd-pager__num')?.textContent || '';
    return {
      painted: window.__sdFirstPainted,
      in_dom: window.__sdFirst,
      list_requests: lists.length,
      list_bytes: lists.reduce((s, r) => s + (r.encodedBodySize || 0), 0),
      data_end: dataEnd,
      nodes: document.querySelectorAll(sel).length,
      elements: document.getElementsByTagName('*').length,
      pager: pagerText,
    };
  }, NODE);
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
    render_after_data_ms: first.data_end !== null ? first.painted - first.data_end : null,
    list_requests: first.list_requests,
    list_bytes: first.list_bytes,
    data_end_ms: first.data_end,
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
      render_after_data_ms: med('render_after_data_ms'),
      data_end_ms: med('data_end_ms'),
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
