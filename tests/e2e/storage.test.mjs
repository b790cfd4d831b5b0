// Storage over time: on the demo seed the devbox chart's total is the sum of the API's
// size_bytes of that devbox's snapshots, each bar's bytes are its snapshot's, and on
// Cleanup (one devbox, keep 1) the overlay's "frees" is the sum of the planned deletes'
// sizes. On Snapshots, the breakdown by devbox and by blueprint has the totals computed
// here from the API's list, largest first, and its links open a Cleanup scoped to the
// row. Screenshots light and dark, 1280 and 360 px.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openApp, screenshot, startServer } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  // The seed's in-progress snapshot completes after 1.5 s: let it, so the sizes hold.
  await new Promise((r) => setTimeout(r, 2000));
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const sum = (list) => list.reduce((n, s) => n + (s.size_bytes ?? 0), 0);

async function shots(name, path, ready) {
  for (const width of [1280, 360]) {
    for (const colorScheme of ['light', 'dark']) {
      const { context, page, errors } = await openApp(browser, server.url, path, {
        colorScheme, viewport: { width, height: 800 },
      });
      await ready(page);
      await page.waitForTimeout(200);
      await screenshot(page, `${name}-${width}-${colorScheme}`);
      assert.deepEqual(errors, [], 'no page errors');
      await context.close();
    }
  }
}

test("a devbox's chart totals equal the API's sizes, bar by bar", async () => {
  const devboxes = await server.api.devboxes();
  const checked = [];
  for (const name of ['ci-warm-cache', 'agent-fix-flaky-tests']) {
    const d = devboxes.find((x) => x.name === name);
    assert.ok(d, `the demo seed has ${name}`);
    const snaps = await server.api.snapshots(`&devbox_id=${d.id}`);
    assert.ok(snaps.length > 1);
    const { context, page, errors } = await openApp(browser, server.url, `/devboxes/${d.id}`);
    const chart = page.locator('[data-testid="storage-chart"]');
    await chart.waitFor();
    assert.equal(Number(await chart.getAttribute('data-total-bytes')), sum(snaps));
    // The same total in text (binary units) with the exact bytes on hover.
    const total = page.locator('[data-testid="storage-total"]');
    assert.match(await total.innerText(), /^\d+(\.\d)? GiB$/);
    assert.equal(await total.getAttribute('title'), `${sum(snaps).toLocaleString('en-US')} bytes`);
    // One bar per snapshot (they are days apart), each with its snapshot's bytes.
    const bars = page.locator('[data-testid="storage-bar"]');
    assert.equal(await bars.count(), snaps.length);
    for (const s of snaps) {
      const bar = page.locator(`[data-testid="storage-bar"][data-id="${s.id}"]`);
      assert.equal(Number(await bar.getAttribute('data-bytes')), s.size_bytes ?? 0, s.name);
      assert.match(await bar.getAttribute('aria-label'), new RegExp(`^${s.name}, `));
    }
    // Keyboard: a bar takes focus and its tooltip gives the exact bytes and the name.
    const first = [...snaps].sort((a, b) => a.create_time_ms - b.create_time_ms)[0];
    await page.locator(`[data-testid="storage-bar"][data-id="${first.id}"]`).focus();
    const tip = page.locator('[data-testid="storage-tip"]');
    await tip.waitFor();
    const text = await tip.innerText();
    assert.ok(text.includes(first.name), text);
    assert.ok(text.includes(`${(first.size_bytes ?? 0).toLocaleString('en-US')} bytes`), text);
    assert.deepEqual(errors, []);
    await context.close();
    checked.push(d);
  }
  const ci = checked[0];
  await shots('storage-devbox', `/devboxes/${ci.id}`, async (page) => {
    await page.locator('[data-testid="storage-bar"]').first().waitFor();
    await page.locator('[data-testid="storage-bar"]').last().hover();
  });
});

test('a devbox with no snapshots shows the empty state', async () => {
  const devboxes = await server.api.devboxes();
  const snaps = await server.api.snapshots();
  const bare = devboxes.find((d) => !snaps.some((s) => s.source_devbox_id === d.id));
  assert.ok(bare, 'the demo seed has a devbox without snapshots');
  const { context, page } = await openApp(browser, server.url, `/devboxes/${bare.id}`);
  await page.locator('[data-testid="storage-empty"]').waitFor();
  assert.equal(await page.locator('[data-testid="storage-chart"]').getAttribute('data-total-bytes'), '0');
  await context.close();
});

test("the Cleanup overlay frees the planned deletes' sizes", async () => {
  const ci = (await server.api.devboxes()).find((d) => d.name === 'ci-warm-cache');
  const snaps = (await server.api.snapshots(`&devbox_id=${ci.id}`)).sort(
    (a, b) => b.create_time_ms - a.create_time_ms,
  );
  const path = `/cleanup?devbox=${ci.id}&keep=1`;
  const { context, page, errors } = await openApp(browser, server.url, path);
  await page.waitForFunction(
    () => document.querySelectorAll('[data-testid="plan-delete-row"]').length > 0,
  );
  const deleteIds = await page.locator('[data-testid="plan-delete-row"]').evaluateAll(
    (rows) => rows.map((r) => r.getAttribute('data-id')),
  );
  const planned = snaps.filter((s) => deleteIds.includes(s.id));
  assert.equal(planned.length, deleteIds.length);
  const frees = page.locator('[data-testid="storage-frees"]');
  await frees.waitFor();
  await page.waitForFunction(
    (want) => document.querySelector('[data-testid="storage-frees"]')?.getAttribute('data-bytes') === String(want),
    sum(planned),
  );
  const chart = page.locator('[data-testid="storage-chart"]');
  assert.equal(Number(await chart.getAttribute('data-total-bytes')), sum(snaps));
  assert.equal(Number(await chart.getAttribute('data-after-bytes')), sum(snaps) - sum(planned));
  // The planned-delete bars are the marked ones.
  const marked = await page.locator('[data-testid="storage-bar"][data-freed="true"]').evaluateAll(
    (bars) => bars.map((b) => b.getAttribute('data-id')).sort(),
  );
  assert.deepEqual(marked, [...deleteIds].sort());
  assert.deepEqual(errors, []);
  await context.close();
  await shots('storage-cleanup', path, async (page) => {
    await page.locator('[data-testid="storage-frees"]').waitFor();
  });
});

/**
 * The breakdown as this test computes it from the API's lists: a snapshot's blueprint is
 * its own `source_blueprint_id`, else its devbox's blueprint, else that of the snapshot
 * its devbox started from, up the chain. Sizes unknown to the API are counted apart.
 */
function expectedBreakdown(snaps, devboxes, by) {
  const boxes = new Map(devboxes.map((d) => [d.id, d]));
  const byId = new Map(snaps.map((s) => [s.id, s]));
  const blueprintOf = (s) => {
    const passed = new Set();
    for (let at = s; at;) {
      if (at.source_blueprint_id) return at.source_blueprint_id;
      const d = boxes.get(at.source_devbox_id);
      if (!d) return null;
      if (d.blueprint_id) return d.blueprint_id;
      if (!d.snapshot_id || passed.has(d.snapshot_id)) return null;
      passed.add(d.snapshot_id);
      at = byId.get(d.snapshot_id);
    }
    return null;
  };
  const groups = new Map();
  for (const s of snaps) {
    const key = by === 'devbox' ? s.source_devbox_id : blueprintOf(s);
    const g = groups.get(key) ?? { key: key ?? '', bytes: 0, snapshots: 0, unknown: 0 };
    g.snapshots += 1;
    if (s.size_bytes == null) g.unknown += 1; else g.bytes += s.size_bytes;
    groups.set(key, g);
  }
  return [...groups.values()].sort((a, b) => b.bytes - a.bytes || b.snapshots - a.snapshots
    || (a.key === '') - (b.key === '') || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Opens the breakdown on the Snapshots page and shows every row of both groups. */
async function openBreakdown(page) {
  const box = page.getByTestId('storage-breakdown');
  await box.locator('summary').click();
  await box.locator('[data-testid="breakdown-row"]').first().waitFor();
  for (const more of await box.getByRole('button', { name: /^Show all/ }).all()) await more.click();
  return box;
}

const rowsOf = (list) => list.locator('[data-testid="breakdown-row"]').evaluateAll((rows) => rows.map((r) => ({
  key: r.dataset.key, bytes: Number(r.dataset.bytes), snapshots: Number(r.dataset.snapshots), unknown: Number(r.dataset.unknown),
})));

/** The Cleanup page's count of snapshots in scope, once planned. */
async function cleanupCount(page) {
  const summary = page.getByTestId('cleanup-summary');
  await page.waitForFunction(() => /^Will delete \d+ of \d+ snapshots?/.test(
    document.querySelector('[data-testid="cleanup-summary"]')?.textContent ?? ''));
  return Number((await summary.textContent()).match(/ of (\d+) snapshot/)[1]);
}

test("the Snapshots breakdown has the API's totals by devbox and blueprint, largest first, linking to a scoped Cleanup", async () => {
  const snaps = await server.api.snapshots('');
  const devboxes = await server.api.devboxes();
  const byDevbox = expectedBreakdown(snaps, devboxes, 'devbox');
  const byBlueprint = expectedBreakdown(snaps, devboxes, 'blueprint');
  assert.ok(byDevbox.length > 1 && byBlueprint.length > 1, 'the seed spreads over devboxes and blueprints');

  const { context, page, errors } = await openApp(browser, server.url, '/snapshots');
  await page.locator('[data-testid="snapshot-row"]').first().waitFor();
  const box = page.getByTestId('storage-breakdown');
  // Closed by default; its summary already gives the total.
  assert.equal(await box.evaluate((d) => d.open), false);
  assert.equal(Number(await box.getAttribute('data-total-bytes')), sum(snaps));
  await openBreakdown(page);
  assert.deepEqual(await rowsOf(page.getByTestId('breakdown-devbox')), byDevbox);
  assert.deepEqual(await rowsOf(page.getByTestId('breakdown-blueprint')), byBlueprint);
  const unknown = snaps.filter((s) => s.size_bytes == null).length;
  if (unknown > 0) {
    assert.equal(Number(await page.getByTestId('breakdown-unknown').getAttribute('data-count')), unknown);
  }

  // The largest devbox: binary units, exact bytes in the tooltip and the description.
  const top = byDevbox[0];
  const row = page.getByTestId('breakdown-devbox').locator('[data-testid="breakdown-row"]').first();
  const exact = `${top.bytes.toLocaleString('en-US')} bytes`;
  const size = row.locator('.sd-breakdown__size');
  assert.match(await size.innerText(), /^\d+(\.\d)? (KiB|MiB|GiB)$/);
  assert.equal(await size.getAttribute('title'), exact);
  const link = row.getByTestId('breakdown-cleanup');
  const described = await link.evaluate((a) => document.getElementById(a.getAttribute('aria-describedby'))?.textContent);
  assert.ok(described.includes(exact), described);
  await screenshot(page, 'storage-breakdown-open-light');

  // Its link opens the Cleanup of that devbox, planning that devbox's snapshots.
  await link.click();
  await page.waitForURL((u) => u.pathname === '/cleanup' && u.searchParams.get('devbox') === top.key);
  assert.equal(await page.getByTestId('cleanup-scope').inputValue(), top.key);
  assert.equal(await cleanupCount(page), top.snapshots);

  // The largest blueprint: a Cleanup scoped to it plans exactly its row's snapshots.
  await page.goBack();
  await openBreakdown(page);
  const topBp = byBlueprint.find((g) => g.key !== '');
  const bpRow = page.getByTestId('breakdown-blueprint').locator(`[data-testid="breakdown-row"][data-key="${topBp.key}"]`);
  await bpRow.getByTestId('breakdown-cleanup').click();
  await page.waitForURL((u) => u.pathname === '/cleanup' && u.searchParams.get('blueprint') === topBp.key);
  assert.equal(await page.getByTestId('cleanup-scope-blueprint').getAttribute('data-blueprint'), topBp.key);
  assert.equal(await cleanupCount(page), topBp.snapshots);
  const listed = await server.api.snapshots(`&source_blueprint_id=${topBp.key}`);
  assert.equal(listed.length, topBp.snapshots, 'the scope is what the API lists under the blueprint');
  await screenshot(page, 'storage-breakdown-cleanup-blueprint-light');
  assert.deepEqual(errors, []);
  await context.close();

  await shots('storage-breakdown', '/snapshots', async (page) => {
    await page.locator('[data-testid="snapshot-row"]').first().waitFor();
    await openBreakdown(page);
  });
});

test('the breakdown says when nothing is listed and when the list did not load', async () => {
  const { context, page } = await openApp(browser, server.url, '/snapshots?devbox=dbx_none_such');
  const box = page.getByTestId('storage-breakdown');
  await box.locator('summary').click();
  await page.getByTestId('breakdown-empty').or(page.getByTestId('breakdown-error')).first().waitFor();
  await context.close();

  // A failing list: the breakdown says it has nothing to go on (the page's error offers Retry).
  const failing = await openApp(browser, server.url, '/snapshots');
  await failing.context.route((u) => u.pathname === '/v1/devboxes/disk_snapshots', (route) => route.fulfill({ status: 500, json: { error: 'boom' } }));
  await failing.page.reload();
  const b = failing.page.getByTestId('storage-breakdown');
  await b.locator('summary').click();
  await failing.page.getByTestId('breakdown-error').waitFor({ timeout: 20_000 });
  assert.match(await b.locator('summary').innerText(), /not available/);
  await failing.context.close();
});
