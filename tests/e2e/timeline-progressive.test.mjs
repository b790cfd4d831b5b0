// A long timeline shows its first page while the rest of the snapshot list is still
// loading (issue 7): the API lists newest first, so the first list page already holds
// page 1 of the timeline. Every list request is slowed down (/_emulator/faults), so the
// test can look at the page between the first list page and the last one, then checks
// that once everything is in, every page of the timeline is in the right order, the
// counts are right, and a devbox started from a snapshot shows under it (lineage).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openApp, screenshot, startServer } from './harness.mjs';

const COUNT = 230; // 5 pages of 50; more than the app's first list request (100)
const LATENCY_MS = 1500;
const NODE = '[data-testid="snapshot-node"]';
const LOADING = '[data-testid="timeline-loading"]';
let server;
let browser;
let devbox;
let expected; // snapshot ids in timeline order
let fork; // a devbox started from a snapshot on page 1

before(async () => {
  server = await startServer(['--snapshot-duration-ms', '100']);
  browser = await launchBrowser();
  devbox = (await server.api.devboxes()).find((d) => d.status === 'running' && d.name);
  let next = 0;
  const worker = async () => {
    while (next < COUNT) {
      const i = next++;
      const r = await server.api.post(`/v1/devboxes/${devbox.id}/snapshot_disk_async`, {
        name: `long-${String(i).padStart(4, '0')}`,
      });
      assert.equal(r.status, 200, r.text);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  // The app's order, computed here independently: newest first, ties by id (descending).
  const all = await server.api.snapshots(`&devbox_id=${devbox.id}`);
  all.sort((a, b) => b.create_time_ms - a.create_time_ms || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  expected = all.map((s) => s.id);
  assert.ok(expected.length >= COUNT);
  // Lineage: start a devbox from the 3rd newest snapshot once it is complete.
  const from = expected[2];
  for (let i = 0; i < 50; i++) {
    const s = await server.api.get(`/v1/devboxes/disk_snapshots/${from}/status`);
    if (s.json?.status === 'complete') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const r = await server.api.post('/v1/devboxes', { name: 'fork-of-long', snapshot_id: from });
  assert.equal(r.status, 200, r.text);
  fork = r.json;
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const ids = (page) => page.locator(NODE).evaluateAll((els) => els.map((e) => e.dataset.snapshotId));

/** Opens the devbox with slow list requests; resolves once the first node is in. */
async function openWhileLoading(colorScheme) {
  await server.api.faults({ fault_latency_ms: LATENCY_MS });
  const listDone = [];
  const { context, page, errors } = await openApp(browser, server.url, '/', { colorScheme });
  page.on('requestfinished', (r) => {
    if (r.url().includes('/v1/devboxes/disk_snapshots?')) listDone.push(r.url());
  });
  await page.goto(`${server.url}/devboxes/${devbox.id}`);
  await page.locator(NODE).first().waitFor({ timeout: 20_000 });
  return { context, page, errors, listDone };
}

test('the first page shows before the whole list has loaded, in the final order', async () => {
  const { context, page, errors, listDone } = await openWhileLoading('light');
  // Still loading: at most the first list request is done, the next one on its way.
  assert.ok(listDone.length <= 1, `list requests done when page 1 showed: ${listDone.join(', ')}`);
  const loading = page.locator(LOADING);
  assert.ok(await loading.isVisible(), 'a visible "loading" indicator');
  assert.match(await loading.textContent(), new RegExp(`loading 100 of ${expected.length}`));
  // The whole count is known at once (the API sends total_count) …
  await page.getByText(`${expected.length} total, newest first`).waitFor();
  await page.getByText(`1–50 of ${expected.length} snapshots`).waitFor();
  // … and page 1 is already exactly page 1 of the final timeline.
  await page.waitForFunction((sel) => document.querySelectorAll(sel).length === 50, NODE);
  assert.deepEqual(await ids(page), expected.slice(0, 50));
  await screenshot(page, 'timeline-loading-light');

  // The rest arrives: the indicator goes, nothing on screen moves.
  await loading.waitFor({ state: 'detached', timeout: 20_000 });
  assert.ok(listDone.length >= 2, `the rest of the list came in ${listDone.length - 1} more request(s)`);
  assert.deepEqual(await ids(page), expected.slice(0, 50));
  await server.api.faults({ fault_latency_ms: 0 });

  // Lineage: the devbox started from the 3rd snapshot hangs under it.
  const branch = page.locator(`${NODE}[data-snapshot-id="${expected[2]}"] .sd-branch`);
  await branch.waitFor({ timeout: 10_000 });
  assert.match(await branch.textContent(), /fork-of-long/);
  assert.equal(await branch.locator('a').getAttribute('href'), `/devboxes/${fork.id}`);

  // Every page, in-app (the Next link), is that slice of the whole order.
  const pages = Math.ceil(expected.length / 50);
  for (let p = 2; p <= pages; p++) {
    await page.getByRole('link', { name: 'Next →' }).click();
    await page.getByText(`page ${p} of ${pages}`).waitFor();
    await page.waitForFunction(
      ({ sel, first }) => document.querySelector(sel)?.dataset.snapshotId === first,
      { sel: NODE, first: expected[(p - 1) * 50] },
    );
    assert.deepEqual(await ids(page), expected.slice((p - 1) * 50, p * 50), `page ${p}`);
  }
  const from = (pages - 1) * 50 + 1;
  await page.getByText(`${from}–${expected.length} of ${expected.length} snapshots`).waitFor();
  await page.locator('[data-testid="origin"]').waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test('while loading and once loaded, the timeline looks right in light and dark', async () => {
  // (The light "loading" screenshot is the test above's.)
  const loading = await openWhileLoading('dark');
  await loading.page.waitForFunction((sel) => document.querySelectorAll(sel).length === 50, NODE);
  assert.ok(await loading.page.locator(LOADING).isVisible());
  await screenshot(loading.page, 'timeline-loading-dark');
  await loading.page.locator(LOADING).waitFor({ state: 'detached', timeout: 20_000 });
  await loading.context.close();
  await server.api.faults({ fault_latency_ms: 0 });
  for (const colorScheme of ['light', 'dark']) {
    const { context, page } = await openApp(browser, server.url, `/devboxes/${devbox.id}`, { colorScheme });
    await page.locator(`${NODE}[data-status="complete"]`).first().waitFor({ timeout: 10_000 });
    await page.locator(LOADING).waitFor({ state: 'detached', timeout: 10_000 });
    await page.waitForFunction((sel) => [...document.querySelectorAll(sel)].every((n) => n.dataset.status !== 'unknown'), NODE);
    await screenshot(page, `timeline-loaded-${colorScheme}`);
    await context.close();
  }
});
