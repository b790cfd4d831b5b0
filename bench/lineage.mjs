// The lineage graph with ~12,000 nodes, in headless Chromium.
//
//   node bench/lineage.mjs --url URL --key KEY [--nodes 12000] [--loads 5]
//
// Makes the data through the API (an emulator started with --seed none and short
// boot/snapshot times): devboxes of 10 snapshots each, two devboxes started from the
// 4th and 8th snapshot of every devbox, breadth first, until the account holds
// --nodes devboxes + snapshots (32 requests in flight). Then, per load: a fresh page
// opens /lineage; first render = the frame after the first [data-testid=lineage-node]
// is in the DOM − the end of the last list response (devboxes, snapshots,
// blueprints) that arrived before it (Resource Timing). Then a pan: 30 pointer moves
// of 40 px over the graph; per move, the handler and the DOM update (dispatch →
// a forced style/layout) and the time to the next frame (rAF after it). Prints one JSON
// object; nothing asserts.

import { launch, freshPage } from './load.mjs';

function args() {
  const out = { key: 'bench', nodes: 12000, loads: 5 };
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i += 2) out[a[i].replace(/^--/, '')] = a[i + 1];
  out.nodes = Number(out.nodes);
  out.loads = Number(out.loads);
  return out;
}

const o = args();
const H = { authorization: `Bearer ${o.key}`, 'content-type': 'application/json' };
const call = async (method, path, body) => {
  const r = await fetch(o.url + path, { method, headers: H, body: body && JSON.stringify(body) });
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  return r.json();
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function pool(items, n, f) {
  const out = [];
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i], i);
    }
  }));
  return out;
}

async function running(id) {
  for (let i = 0; i < 400; i++) {
    const d = await call('GET', `/v1/devboxes/${id}`);
    if (d.status === 'running') return;
    await sleep(25);
  }
  throw new Error(`devbox ${id} did not start`);
}

async function populate() {
  const t0 = Date.now();
  let nodes = 0;
  let requests = 0;
  // Generation 0: 20 devboxes from nothing.
  let wave = Array.from({ length: 20 }, (_, i) => ({ name: `lg-${i}`, from: null }));
  while (wave.length && nodes < o.nodes) {
    wave = wave.slice(0, Math.max(0, Math.floor((o.nodes - nodes) / 11)) || 1);
    const made = await pool(wave, 32, async (w) => {
      const d = await call('POST', '/v1/devboxes', { name: w.name, ...(w.from ? { snapshot_id: w.from } : {}) });
      await running(d.id);
      const snaps = [];
      for (let k = 0; k < 10; k++) {
        snaps.push((await call('POST', `/v1/devboxes/${d.id}/snapshot_disk_async`, { name: `${w.name}-s${k}` })).id);
      }
      requests += 12;
      return { name: w.name, snaps };
    });
    nodes += made.length * 11;
    wave = made.flatMap((m) => [
      { name: `${m.name}.a`, from: m.snaps[3] },
      { name: `${m.name}.b`, from: m.snaps[7] },
    ]);
  }
  return { nodes, secs: (Date.now() - t0) / 1000, requests };
}

function probe() {
  new MutationObserver(() => {
    if (window.__sdNode === undefined && document.querySelector('[data-testid="lineage-node"]')) {
      window.__sdNode = -1;
      requestAnimationFrame(() => setTimeout(() => { window.__sdNode = performance.now(); }, 0));
    }
  }).observe(document, { childList: true, subtree: true });
}

async function oneLoad(browser) {
  const { context, page } = await freshPage(browser, o.key);
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.addInitScript(probe);
  await page.goto(`${o.url}/lineage`);
  await page.waitForFunction(() => window.__sdNode > 0, null, { timeout: 120000 });
  const first = await page.evaluate(() => {
    const painted = window.__sdNode;
    const lists = performance.getEntriesByType('resource')
      .filter((e) => /\/v1\/(devboxes|blueprints)/.test(e.name) && !/\/status/.test(e.name) && e.responseEnd <= painted);
    const dataIn = Math.max(...lists.map((e) => e.responseEnd));
    return {
      painted, dataIn, ms: painted - dataIn, lists: lists.length,
      total: Number(document.querySelector('svg.sd-lg__svg')?.getAttribute('data-total')),
      drawn: document.querySelectorAll('[data-testid="lineage-node"]').length,
      elements: document.getElementsByTagName('*').length,
    };
  });
  const pan = await page.evaluate(async () => {
    const svg = document.querySelector('svg.sd-lg__svg');
    const r = svg.getBoundingClientRect();
    let x = r.left + r.width * 0.8;
    const y = r.top + r.height / 2;
    const ev = (type) => new PointerEvent(type, { bubbles: true, clientX: x, clientY: y, button: 0, pointerId: 1, isPrimary: true });
    svg.dispatchEvent(ev('pointerdown'));
    const work = [];
    const frame = [];
    for (let i = 0; i < 30; i++) {
      x -= 40;
      const t0 = performance.now();
      svg.dispatchEvent(ev('pointermove'));
      svg.getBoundingClientRect();
      svg.querySelector('g').getBBox();
      const t1 = performance.now();
      await new Promise((ok) => requestAnimationFrame(() => ok()));
      frame.push(performance.now() - t0);
      work.push(t1 - t0);
    }
    svg.dispatchEvent(ev('pointerup'));
    const sorted = (a) => [...a].sort((p, q) => p - q);
    const med = (a) => sorted(a)[Math.floor(a.length / 2)];
    return { work_median: med(work), work_max: Math.max(...work), frame_median: med(frame), frame_max: Math.max(...frame),
      drawn_after: document.querySelectorAll('[data-testid="lineage-node"]').length };
  });
  await context.close();
  return { first, pan, errors };
}

const made = await populate();
const browser = await launch();
const loads = [];
for (let i = 0; i < o.loads; i++) loads.push(await oneLoad(browser));
await browser.close();
const med = (a) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
console.log(JSON.stringify({
  populate: made,
  first_render_ms: med(loads.map((l) => l.first.ms)),
  first_render_range: [Math.min(...loads.map((l) => l.first.ms)), Math.max(...loads.map((l) => l.first.ms))],
  data_in_ms: med(loads.map((l) => l.first.dataIn)),
  pan_work_ms: med(loads.map((l) => l.pan.work_median)),
  pan_work_max_ms: Math.max(...loads.map((l) => l.pan.work_max)),
  pan_frame_ms: med(loads.map((l) => l.pan.frame_median)),
  total: loads[0].first.total,
  drawn: loads[0].first.drawn,
  elements: loads[0].first.elements,
  loads,
}, null, 1));
