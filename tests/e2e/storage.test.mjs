// Storage over time: on the demo seed the devbox chart's total is the sum of the API's
// size_bytes of that devbox's snapshots, each bar's bytes are its snapshot's, and on
// Cleanup (one devbox, keep 1) the overlay's "frees" is the sum of the planned deletes'
// sizes. Screenshots light and dark, 1280 and 360 px.

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
