// Workflow: policy cleanup in three steps. Set a policy (one devbox, keep 1), read the
// dry-run plan with its reasons and bytes, untick one row, confirm by typing the
// number, watch the run finish — and check through the API that exactly the confirmed
// snapshots are gone: the unticked one and every kept one remain.

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

/** Screenshots the page as it is, in light and then dark (same page, same state). */
async function bothSchemes(page, name) {
  // Full-page shots of a scrolled page would paint the sticky top bar mid-page.
  await page.evaluate(() => window.scrollTo(0, 0));
  for (const colorScheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme });
    await screenshot(page, `${name}-${colorScheme}`);
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

const deleteRows = (page) => page.locator('[data-testid="plan-delete-row"]');
const keepRows = (page) => page.locator('[data-testid="plan-keep-row"]');
const summary = (page) => page.locator('[data-testid="cleanup-summary"]');

test('keep 1 on one devbox, untick a row, type the number, exactly the confirmed ones go', async () => {
  const devboxes = await server.api.devboxes();
  const ci = devboxes.find((d) => d.name === 'ci-warm-cache');
  assert.ok(ci, 'the demo seed has ci-warm-cache');
  const beforeAll = new Set((await server.api.snapshots()).map((s) => s.id));
  const ciSnaps = (await server.api.snapshots(`&devbox_id=${ci.id}`)).sort(
    (a, b) => b.create_time_ms - a.create_time_ms,
  );
  assert.equal(ciSnaps.length, 5);
  const newest = ciSnaps[0].id;

  const { context, page, errors } = await openApp(browser, server.url, '/cleanup');
  // With a snapdeck server in between, the plan and the run are its jobs: the tab
  // itself asks for no status and sends no delete.
  const tabCalls = [];
  page.on('request', (r) => {
    const path = new URL(r.url()).pathname;
    if ((r.method() === 'DELETE' && path.startsWith('/v1/')) || path.endsWith('/status')) {
      tabCalls.push(`${r.method()} ${path}`);
    }
  });
  await summary(page).filter({ hasText: 'Will delete' }).waitFor();

  // Step 1: the policy, every edit in the URL.
  await page.locator('[data-testid="cleanup-scope"]').selectOption(ci.id);
  await page.waitForURL((u) => u.searchParams.get('devbox') === ci.id);
  await page.locator('[data-testid="cleanup-keep"]').fill('1');
  await page.waitForURL((u) => u.searchParams.get('keep') === '1');
  await summary(page).filter({ hasText: 'Will delete 4 of 5 snapshots' }).waitFor();
  const freed = ciSnaps.slice(1).reduce((n, s) => n + s.size_bytes, 0);
  assert.match(await summary(page).innerText(), /free \d+(\.\d+)? GiB/);
  await bothSchemes(page, 'cleanup-1-policy');

  // Step 2: the plan, with reasons.
  await page.waitForFunction(
    () => document.querySelectorAll('[data-testid="plan-delete-row"]').length === 4,
  );
  assert.equal(await keepRows(page).count(), 1);
  assert.equal(await keepRows(page).first().getAttribute('data-id'), newest);
  assert.match(
    await keepRows(page).first().locator('[data-testid="plan-reason"]').innerText(),
    /Newest complete/,
  );
  const reasons = await deleteRows(page).locator('[data-testid="plan-reason"]').allInnerTexts();
  assert.ok(reasons.every((r) => /only the newest 1 are kept/.test(r)), `reasons: ${reasons}`);
  const planned = await deleteRows(page).evaluateAll((els) => els.map((e) => e.dataset.id));
  assert.deepEqual(planned.sort(), ciSnaps.slice(1).map((s) => s.id).sort());
  assert.ok(freed > 0);

  // Untick one: it is kept.
  const spared = ciSnaps[2].id;
  await page
    .locator(`[data-testid="plan-delete-row"][data-id="${spared}"] input[type="checkbox"]`)
    .uncheck();
  await summary(page).filter({ hasText: 'Will delete 3 of 5 snapshots' }).waitFor();
  await bothSchemes(page, 'cleanup-2-plan');

  // Step 3: the button stays off until the right number is typed.
  const go = page.getByRole('button', { name: 'Delete 3 snapshots' });
  assert.equal(await go.isDisabled(), true);
  await page.locator('[data-testid="cleanup-confirm"]').fill('4');
  assert.equal(await go.isDisabled(), true, 'a wrong number does not arm it');
  await page.locator('[data-testid="cleanup-confirm"]').fill('3');
  await page.waitForFunction(
    () => [...document.querySelectorAll('button')].some((b) => b.textContent === 'Delete 3 snapshots' && !b.disabled),
  );
  await go.click();

  await page.waitForFunction(
    () => document.querySelectorAll('[data-testid="bulk-row"][data-outcome="deleted"]').length === 3,
    undefined,
    { timeout: 20_000 },
  );
  await page.getByText(/^Finished:/).waitFor();
  const counts = await page.locator('[data-testid="bulk-counts"]').innerText();
  assert.match(counts, /3 deleted · 0 failed · 0 skipped · 0 left/);
  await bothSchemes(page, 'cleanup-3-run');

  const confirmed = ciSnaps.slice(1).map((s) => s.id).filter((id) => id !== spared).sort();
  const afterAll = new Set((await server.api.snapshots()).map((s) => s.id));
  const gone = [...beforeAll].filter((id) => !afterAll.has(id)).sort();
  assert.deepEqual(gone, confirmed, 'exactly the confirmed snapshots are gone');
  assert.ok(afterAll.has(spared), 'the unticked one remains');
  assert.ok(afterAll.has(newest), 'the kept one remains');
  assert.equal(afterAll.size, beforeAll.size - 3);

  // The tray recorded the run.
  const tray = page.locator('[data-testid="ops-tray"]');
  if (await tray.count()) {
    assert.match(await tray.innerText(), /Cleanup/);
  }
  assert.deepEqual(tabCalls, [], 'the tab sent no delete and asked no status itself');
  const jobs = (await server.api.get('/_snapdeck/jobs')).json.jobs;
  const run = jobs.find((j) => j.kind === 'delete');
  assert.ok(run, `a delete job ran on the server: ${JSON.stringify(jobs.map((j) => j.kind))}`);
  assert.equal(run.status, 'finished');
  assert.equal(run.progress.done, 3);
  assert.ok(jobs.some((j) => j.kind === 'plan' && j.status === 'finished'), 'the plan was a job too');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a snapshot pinned after the plan was confirmed is skipped, not deleted', async () => {
  const devboxes = await server.api.devboxes();
  const ci = devboxes.find((d) => d.name === 'ci-warm-cache');
  const { context, page, errors } = await openApp(
    browser,
    server.url,
    `/cleanup?devbox=${ci.id}&keep=1&errored=0`,
  );
  await page.waitForFunction(
    () => document.querySelectorAll('[data-testid="plan-delete-row"]').length === 1,
  );
  const id = await deleteRows(page).first().getAttribute('data-id');
  await page.locator('[data-testid="cleanup-confirm"]').fill('1');

  // Someone pins it in the meantime (read-merge-write, as the API replaces metadata).
  const st = await server.api.get(`/v1/devboxes/disk_snapshots/${id}/status`);
  const metadata = { ...st.json.snapshot.metadata, 'snapdeck.pinned': 'true' };
  const upd = await server.api.post(`/v1/devboxes/disk_snapshots/${id}`, { metadata });
  assert.equal(upd.status, 200);

  await page.getByRole('button', { name: 'Delete 1 snapshot' }).click();
  const rowSel = `[data-testid="bulk-row"][data-id="${id}"][data-outcome="skipped"]`;
  await page.locator(rowSel).waitFor({ timeout: 15_000 });
  assert.match(await page.locator(rowSel).innerText(), /pinned after you confirmed/);
  const still = await server.api.get(`/v1/devboxes/disk_snapshots/${id}/status`);
  assert.equal(still.json.status, 'complete', 'the pinned snapshot is still there');
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshot(page, 'cleanup-skipped-pinned');
  assert.deepEqual(errors, []);
  await context.close();
});

test('an errored snapshot the API refuses to delete is reported as failed with its message', async () => {
  const devboxes = await server.api.devboxes();
  const flaky = devboxes.find((d) => d.name === 'agent-fix-flaky-tests');
  // Keep every complete one: only the errored snapshot is planned for deletion.
  const { context, page, errors } = await openApp(
    browser,
    server.url,
    `/cleanup?devbox=${flaky.id}&keep=10&errored=1`,
  );
  await page.waitForFunction(
    () => document.querySelectorAll('[data-testid="plan-delete-row"]').length === 1,
  );
  const id = await deleteRows(page).first().getAttribute('data-id');
  assert.equal(await deleteRows(page).first().locator('[data-testid="plan-reason"]').innerText(), 'Errored');
  const pinnedKept = await keepRows(page).filter({ hasText: 'known-good' }).locator('[data-testid="plan-reason"]').innerText();
  assert.equal(pinnedKept, 'Pinned');
  await page.locator('[data-testid="cleanup-confirm"]').fill('1');
  await page.getByRole('button', { name: 'Delete 1 snapshot' }).click();
  const rowSel = `[data-testid="bulk-row"][data-id="${id}"][data-outcome="failed"]`;
  await page.locator(rowSel).waitFor({ timeout: 15_000 });
  assert.match(await page.locator(rowSel).innerText(), /409/);
  assert.match(await page.locator('[data-testid="bulk-counts"]').innerText(), /0 deleted · 1 failed/);
  const still = await server.api.get(`/v1/devboxes/disk_snapshots/${id}/status`);
  assert.equal(still.json.status, 'error', 'the errored snapshot is untouched');
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshot(page, 'cleanup-failed-errored');
  // Dismiss clears the finished run.
  await page.getByTestId('bulk-panel').getByRole('button', { name: 'Dismiss' }).click();
  await page.locator('[data-testid="bulk-panel"]').waitFor({ state: 'detached' });
  assert.deepEqual(errors, []);
  await context.close();
});

test('a reload in the middle of a cleanup resumes it and deletes exactly the plan', async () => {
  const beforeAll = new Set((await server.api.snapshots()).map((s) => s.id));
  // The tab's own runner (direct mode): with the server's jobs the run would not be in
  // the tab to reload (their restart is tested in snapdeck-server's jobs_restart).
  const { context, page, errors } = await openApp(browser, server.url, '/cleanup?keep=1&errored=0', { tabOnly: true });
  await summary(page).filter({ hasText: /Will delete \d+ of \d+ snapshots, free/ }).waitFor();
  await page.waitForFunction(
    () => !document.querySelector('[data-testid="cleanup-summary"]').textContent.includes('checking'),
  );
  const planned = await deleteRows(page).evaluateAll((els) => els.map((e) => e.dataset.id));
  assert.ok(planned.length >= 3, `several to delete: ${planned.length}`);
  await page.locator('[data-testid="cleanup-confirm"]').fill(String(planned.length));

  // Slow the API down so the reload lands mid-run.
  await server.api.faults({ fault_latency_ms: 700 });
  await page.getByRole('button', { name: `Delete ${planned.length} snapshots` }).click();
  await page.locator('[data-testid="bulk-row"][data-outcome="deleted"]').first().waitFor({ timeout: 15_000 });
  const doneBefore = await page.locator('[data-testid="bulk-row"][data-outcome="deleted"]').count();
  assert.ok(doneBefore < planned.length, 'still running when the page reloads');
  await page.reload();
  await server.api.faults({ fault_latency_ms: 0 });

  await page.getByText(/^Finished:/).waitFor({ timeout: 30_000 });
  const outcomes = await page
    .locator('[data-testid="bulk-row"]')
    .evaluateAll((els) => els.map((e) => [e.dataset.id, e.dataset.outcome]));
  assert.deepEqual(outcomes.map(([id]) => id).sort(), [...planned].sort());
  assert.ok(outcomes.every(([, o]) => o === 'deleted'), JSON.stringify(outcomes));

  const afterAll = new Set((await server.api.snapshots()).map((s) => s.id));
  const gone = [...beforeAll].filter((id) => !afterAll.has(id)).sort();
  assert.deepEqual(gone, [...planned].sort(), 'exactly the planned snapshots are gone');
  assert.deepEqual(errors, []);
  await context.close();
});

test('the policy page is usable at 360 px wide', async () => {
  const { context, page } = await openApp(browser, server.url, '/cleanup?keep=2', {
    viewport: { width: 360, height: 740 },
  });
  await summary(page).filter({ hasText: 'Will delete' }).waitFor();
  await screenshot(page, 'cleanup-mobile');
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  assert.ok(overflow <= 1, `no horizontal page scroll (overflow ${overflow}px)`);
  await context.close();
});
