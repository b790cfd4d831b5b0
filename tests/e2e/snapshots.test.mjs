// Workflow: the snapshot list. Filter by a devbox (the URL follows), select two
// complete snapshots with a click and a shift-click, delete them through the
// confirmation dialog, see each one's outcome — and check through the API that exactly
// those two are gone and nothing else.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openApp, screenshot, startServer } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const rows = (page) => page.locator('[data-testid="snapshot-row"]');
const row = (page, id) => page.locator(`[data-testid="snapshot-row"][data-id="${id}"]`);

async function devboxNamed(name) {
  const all = await server.api.devboxes();
  const d = all.find((x) => x.name === name);
  assert.ok(d, `the demo seed has ${name}`);
  return d;
}

/** Snapshot ids of a devbox, newest first (the page's order). */
async function snapshotIds(devboxId) {
  const list = await server.api.snapshots(`&devbox_id=${devboxId}`);
  return list
    .sort((a, b) => b.create_time_ms - a.create_time_ms || (a.id < b.id ? 1 : -1))
    .map((s) => s.id);
}

async function waitForRowCount(page, n) {
  await page.waitForFunction(
    (k) => document.querySelectorAll('[data-testid="snapshot-row"]').length === k,
    n,
  );
}

test('filter by devbox, select with click and shift-click, delete exactly those two', async () => {
  const ci = await devboxNamed('ci-warm-cache');
  const before = new Set((await server.api.snapshots()).map((s) => s.id));
  const ciIds = await snapshotIds(ci.id);
  assert.equal(ciIds.length, 5, 'five nightly snapshots');

  const { context, page, errors } = await openApp(browser, server.url, '/snapshots');
  await rows(page).first().waitFor();
  await screenshot(page, 'snapshots-all-light');

  await page.locator('[data-testid="devbox-filter"]').selectOption(ci.id);
  await page.waitForURL((u) => u.pathname === '/snapshots' && u.searchParams.get('devbox') === ci.id);
  await waitForRowCount(page, 5);
  const shown = await rows(page).evaluateAll((els) => els.map((e) => e.dataset.id));
  assert.deepEqual(shown, ciIds, 'newest first, only this devbox');

  // Statuses arrive for the rows on screen.
  const [a, b] = [ciIds[1], ciIds[2]];
  for (const id of [a, b]) {
    await page.locator(`[data-testid="snapshot-row"][data-id="${id}"][data-status="complete"]`).waitFor();
  }

  await row(page, a).locator('input[type="checkbox"]').click();
  await row(page, b).locator('input[type="checkbox"]').click({ modifiers: ['Shift'] });
  await page.getByText('2 selected').waitFor();
  const selected = await rows(page).evaluateAll((els) =>
    els.filter((e) => e.getAttribute('aria-selected') === 'true').map((e) => e.dataset.id),
  );
  assert.deepEqual(selected, [a, b]);
  await screenshot(page, 'snapshots-selected-light');

  await page.getByRole('button', { name: 'Delete selected…' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  await page.waitForFunction(
    () => document.querySelectorAll('[data-testid="confirm-delete"]').length === 2,
  );
  const listed = await page
    .locator('[data-testid="confirm-delete"]')
    .evaluateAll((els) => els.map((e) => e.dataset.id));
  assert.deepEqual(listed.sort(), [a, b].sort());
  const confirmBtn = dialog.getByRole('button', { name: 'Delete 2 snapshots' });
  await assert.doesNotReject(confirmBtn.waitFor());
  assert.equal(await confirmBtn.isEnabled(), true);
  await screenshot(page, 'snapshots-confirm-light');

  // The host page hears the run finish, as it would from Cleanup (one event stream).
  await page.evaluate(() => {
    window.__finished = [];
    document.addEventListener('snapdeck:cleanup-finished', (e) => window.__finished.push(e.detail));
  });
  // Enter confirms.
  await confirmBtn.focus();
  await page.keyboard.press('Enter');
  await dialog.waitFor({ state: 'detached' });

  await page.waitForFunction(
    () => document.querySelectorAll('[data-testid="bulk-row"][data-outcome="deleted"]').length === 2,
    undefined,
    { timeout: 15_000 },
  );
  const outcomes = await page
    .locator('[data-testid="bulk-row"]')
    .evaluateAll((els) => els.map((e) => [e.dataset.id, e.dataset.outcome]));
  assert.deepEqual(outcomes.sort(), [[a, 'deleted'], [b, 'deleted']].sort());
  await page.getByText(/^Finished:/).waitFor();
  await page.waitForFunction(() => window.__finished.length > 0);
  const finished = await page.evaluate(() => window.__finished);
  assert.equal(finished.length, 1, 'one snapdeck:cleanup-finished per run');
  assert.deepEqual(finished[0].deleted.sort(), [a, b].sort());
  assert.deepEqual([finished[0].failed, finished[0].skipped], [[], []]);
  // The list refetches: the two rows are gone.
  await waitForRowCount(page, 3);
  await screenshot(page, 'snapshots-deleted-light');

  const afterIds = new Set((await server.api.snapshots()).map((s) => s.id));
  const gone = [...before].filter((id) => !afterIds.has(id)).sort();
  assert.deepEqual(gone, [a, b].sort(), 'exactly the two confirmed snapshots are gone');
  assert.equal(afterIds.size, before.size - 2, 'nothing else changed');
  for (const id of [a, b]) {
    const st = await server.api.get(`/v1/devboxes/disk_snapshots/${id}/status`);
    assert.ok(st.status === 404 || st.json.status === 'deleted', `${id} is deleted`);
  }
  assert.deepEqual(errors, []);
  await context.close();
});

test('the dialog says what is skipped and why; Esc closes it and deletes nothing (dark)', async () => {
  const flaky = await devboxNamed('agent-fix-flaky-tests');
  const before = (await server.api.snapshots()).length;
  const { context, page, errors } = await openApp(
    browser,
    server.url,
    `/snapshots?devbox=${flaky.id}`,
    { colorScheme: 'dark' },
  );
  await rows(page).first().waitFor();
  await screenshot(page, 'snapshots-all-dark');
  // Select everything matching: one pinned, one errored among them.
  await page.getByRole('checkbox', { name: 'Select all on this page' }).check();
  await page.getByRole('button', { name: 'Delete selected…' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  await page.locator('[data-testid="confirm-skip"]').first().waitFor();
  const skipText = await dialog.locator('[data-testid="confirm-skip"]').allInnerTexts();
  assert.ok(skipText.some((t) => /pinned/.test(t)), `pinned is skipped: ${skipText}`);
  assert.ok(skipText.some((t) => /errored/.test(t)), `errored is skipped: ${skipText}`);
  await screenshot(page, 'snapshots-confirm-dark');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.equal((await server.api.snapshots()).length, before, 'nothing deleted');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a metadata filter typed as key=value lands in the URL and filters the rows', async () => {
  const all = await server.api.snapshots();
  const ci = all.filter((s) => s.metadata.env === 'ci').map((s) => s.id).sort();
  assert.ok(ci.length > 0);
  const { context, page, errors } = await openApp(browser, server.url, '/snapshots');
  await rows(page).first().waitFor();
  const input = page.getByLabel('Metadata');
  await input.fill('not-a-pair');
  await input.press('Enter');
  await page.getByText('Write it as key=value').waitFor();
  await input.fill('env=ci');
  await input.press('Enter');
  await page.waitForURL((u) => u.searchParams.getAll('meta').includes('env=ci'));
  await waitForRowCount(page, ci.length);
  const shown = await rows(page).evaluateAll((els) => els.map((e) => e.dataset.id));
  assert.deepEqual(shown.sort(), ci);
  // The chip removes the filter again.
  await page.getByRole('button', { name: 'Remove filter env=ci' }).click();
  await page.waitForURL((u) => !u.searchParams.has('meta'));
  await waitForRowCount(page, all.length);
  assert.deepEqual(errors, []);
  await context.close();
});

test('the list is usable at 360 px wide', async () => {
  const { context, page } = await openApp(browser, server.url, '/snapshots', {
    viewport: { width: 360, height: 740 },
  });
  await rows(page).first().waitFor();
  await rows(page).first().locator('input[type="checkbox"]').click();
  await page.getByText('1 selected').waitFor();
  await screenshot(page, 'snapshots-mobile');
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  assert.ok(overflow <= 1, `no horizontal page scroll (overflow ${overflow}px)`);
  await context.close();
});

test('stays quick with a thousand more snapshots: paged, select all matching, confirm', async () => {
  const dbx = (await server.api.devboxes()).find((d) => d.status === 'running');
  const N = 1000;
  for (let i = 0; i < N; i += 50) {
    await Promise.all(Array.from({ length: 50 }, (_, k) => server.api.post(
      `/v1/devboxes/${dbx.id}/snapshot_disk_async`,
      { name: `load-${i + k}`, metadata: { batch: 'load' } },
    )));
  }
  const total = (await server.api.snapshots()).length;
  const { context, page, errors } = await openApp(browser, server.url, '/snapshots');
  const t0 = Date.now();
  await rows(page).first().waitFor();
  const firstRowsMs = Date.now() - t0;
  assert.equal(await rows(page).count(), 50, 'one page of rows in the DOM');
  await page.getByText(`1–50 of ${total} snapshots`).waitFor();
  assert.ok(firstRowsMs < 5000, `first rows in ${firstRowsMs} ms`);

  await rows(page).first().locator('input[type="checkbox"]').click();
  await page.getByRole('button', { name: `Select all ${total} matching` }).click();
  await page.getByText(`${total} selected`).waitFor();
  await page.getByRole('button', { name: 'Delete selected…' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  assert.ok(
    (await dialog.locator('[data-testid="confirm-delete"]').count()) <= 200,
    'the dialog names at most 200',
  );
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.equal((await server.api.snapshots()).length, total, 'nothing deleted');
  assert.deepEqual(errors, []);
  await context.close();
});
