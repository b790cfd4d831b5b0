// Cold load in headless Chromium: navigation → first row painted, median of N loads,
// each in a fresh browser context with the HTTP cache disabled; then the JS heap.
//
//   node bench/load.mjs --url http://127.0.0.1:PORT --path /devboxes \
//        --selector '[data-testid=devbox-row]' --runs 7 [--key KEY] \
//        [--vs-url URL2 --vs-path / --vs-selector tr.row --vs-out FILE]
//
// With --vs-*, a second page (the baseline) is loaded turn about with the first (A, B,
// A, B, …) in the same browser, so both see the same machine load; its figures go to
// FILE, the first page's to stdout.
//
// "Painted": a MutationObserver (installed before any page script runs) notes when the
// first element matching the selector is in the DOM, then waits for the next animation
// frame and a task after it — i.e. the frame that contains the row has been produced.
// Times are performance.now() of the page, whose origin is the navigation start.
// Heap: CDP HeapProfiler.collectGarbage, then Runtime.getHeapUsage (usedSize), 1 s after
// the row appeared (the app keeps working: statuses, counts). WebAssembly linear memory
// is not part of the JS heap and is reported separately when the page exposes it.
// Prints one JSON object. Figures only: nothing here asserts.

import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(ROOT, 'tests', 'e2e', 'package.json'));
const { chromium } = require('playwright-core');

function args() {
  const out = {
    runs: 7, key: null, path: '/', selector: 'tr.row', timeout: 30000,
    'vs-url': null, 'vs-path': '/', 'vs-selector': 'tr.row', 'vs-out': null,
  };
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i += 2) out[a[i].replace(/^--/, '')] = a[i + 1];
  out.runs = Number(out.runs);
  out.timeout = Number(out.timeout);
  return out;
}

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  const n = v.length;
  return n === 0 ? null : n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
};

// Runs in the page before its scripts.
function firstRowProbe(selector) {
  const seen = () => {
    if (window.__sdFirstRowInDom !== undefined) return;
    if (!document.querySelector(selector)) return;
    window.__sdFirstRowInDom = performance.now();
    requestAnimationFrame(() => setTimeout(() => {
      window.__sdFirstRowPainted = performance.now();
    }, 0));
  };
  new MutationObserver(seen).observe(document, { childList: true, subtree: true });
}

export async function freshPage(browser, key) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  if (key) {
    await context.addInitScript((k) => {
      if (!window.sessionStorage.getItem('snapdeck.api_key')) {
        window.sessionStorage.setItem('snapdeck.api_key', k);
      }
    }, key);
  }
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  return { context, page, cdp };
}

export async function heapMB(cdp) {
  await cdp.send('HeapProfiler.enable');
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize, totalSize } = await cdp.send('Runtime.getHeapUsage');
  return { used: usedSize / 1048576, total: totalSize / 1048576 };
}

async function oneLoad(browser, o) {
  const { context, page, cdp } = await freshPage(browser, o.key);
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  let bytes = 0;
  cdp.on('Network.loadingFinished', (e) => { bytes += e.encodedDataLength; });
  await page.addInitScript(firstRowProbe, o.selector);
  await page.goto(o.url + o.path, { waitUntil: 'commit' });
  await page.waitForFunction(() => window.__sdFirstRowPainted !== undefined, null, {
    timeout: o.timeout, polling: 50,
  });
  const t = await page.evaluate((sel) => {
    // Where the time goes: the wasm download, then the app's first API call and the
    // devbox list's answer (resource timing, same origin as the navigation).
    const res = performance.getEntriesByType('resource');
    const wasm = res.find((r) => r.name.endsWith('.wasm'));
    const api = res.filter((r) => r.name.includes('/v1/'));
    const list = api.find((r) => /\/v1\/devboxes(\?|$)/.test(r.name));
    return {
      inDom: window.__sdFirstRowInDom,
      painted: window.__sdFirstRowPainted,
      rows: document.querySelectorAll(sel).length,
      wasmEnd: wasm ? wasm.responseEnd : null,
      firstApiStart: api.length ? Math.min(...api.map((r) => r.startTime)) : null,
      listEnd: list ? list.responseEnd : null,
      apiBefore: api.filter((r) => !list || r.startTime <= list.startTime).length,
    };
  }, o.selector);
  await page.waitForTimeout(1000);
  const heap = await heapMB(cdp);
  const domNodes = await page.evaluate(() => document.getElementsByTagName('*').length);
  await context.close();
  return { ...t, heap_used_mb: heap.used, heap_total_mb: heap.total, dom_elements: domNodes, transfer_bytes: bytes, errors };
}

function summary(o, runs) {
  return {
    url: o.url + o.path,
    selector: o.selector,
    runs: runs.length,
    first_row_ms_median: median(runs.map((r) => r.painted)),
    first_row_ms_min: Math.min(...runs.map((r) => r.painted)),
    first_row_ms_max: Math.max(...runs.map((r) => r.painted)),
    in_dom_ms_median: median(runs.map((r) => r.inDom)),
    wasm_loaded_ms_median: median(runs.map((r) => r.wasmEnd)),
    first_api_call_ms_median: median(runs.map((r) => r.firstApiStart)),
    list_answered_ms_median: median(runs.map((r) => r.listEnd)),
    api_calls_up_to_list: median(runs.map((r) => r.apiBefore)),
    // Per-load differences, then their median (medians of the parts above need not add up).
    start_after_wasm_ms_median: median(runs.filter((r) => r.wasmEnd !== null && r.firstApiStart !== null).map((r) => r.firstApiStart - r.wasmEnd)),
    paint_after_list_ms_median: median(runs.filter((r) => r.listEnd !== null).map((r) => r.painted - r.listEnd)),
    heap_used_mb_median: median(runs.map((r) => r.heap_used_mb)),
    heap_used_mb_max: Math.max(...runs.map((r) => r.heap_used_mb)),
    dom_elements_median: median(runs.map((r) => r.dom_elements)),
    transfer_bytes_median: median(runs.map((r) => r.transfer_bytes)),
    errors: runs.flatMap((r) => r.errors).slice(0, 5),
    each: runs.map((r) => ({ painted: r.painted, in_dom: r.inDom, heap_mb: r.heap_used_mb })),
  };
}

async function main() {
  const o = args();
  const vs = o['vs-url']
    ? { ...o, url: o['vs-url'], path: o['vs-path'], selector: o['vs-selector'], key: null }
    : null;
  const browser = await launch();
  try {
    // One unmeasured load of each first: starts the browser's own processes (not the page's).
    await oneLoad(browser, o).catch(() => {});
    if (vs) await oneLoad(browser, vs).catch(() => {});
    const runs = [];
    const vsRuns = [];
    for (let i = 0; i < o.runs; i++) {
      // Alternate which goes first, so neither always follows the other.
      if (vs && i % 2) vsRuns.push(await oneLoad(browser, vs));
      runs.push(await oneLoad(browser, o));
      if (vs && !(i % 2)) vsRuns.push(await oneLoad(browser, vs));
    }
    if (vs) writeFileSync(o['vs-out'], JSON.stringify({ ...summary(vs, vsRuns), interleaved_with: o.url + o.path }) + '\n');
    console.log(JSON.stringify({ ...summary(o, runs), ...(vs ? { interleaved_with: vs.url + vs.path } : {}) }));
  } finally {
    await browser.close();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => { console.error(e); process.exit(1); });
}
