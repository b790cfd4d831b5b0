// Workflow: the plan must still hold at the moment of each delete (issue 12). A cleanup
// planned with "keep newest 1", whose kept snapshot someone else deletes before the
// person confirms, deletes nothing of that devbox: every row is skipped and says why,
// and the devbox keeps its snapshots. And a hand-picked delete of every snapshot of a
// devbox on the Snapshots page keeps the last complete one.

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

const deleteRows = (page) => page.locator('[data-testid="plan-delete-row"]');
const summary = (page) => page.locator('[data-testid="cleanup-summary"]');

/** ci-warm-cache's snapshots, newest first. */
async function ciSnapshots() {
  const ci = (await server.api.devboxes()).find((d) => d.name === 'ci-warm-cache');
  assert.ok(ci, 'the demo seed has ci-warm-cache');
  const snaps = (await server.api.snapshots(`&devbox_id=${ci.id}`)).sort(
    (a, b) => b.create_time_ms - a.create_time_ms,
  );
  return { ci, snaps };
}

test('the kept snapshot deleted behind the UI’s back: the rest are skipped and the page says why', async () => {
  const { ci, snaps } = await ciSnapshots();
  assert.equal(snaps.length, 5);
  const kept = snaps[0];
  const keptLabel = kept.name || kept.id;

  const { context, page, errors } = await openApp(
    browser,
    server.url,
    `/cleanup?devbox=${ci.id}&keep=1`,
  );
  await summary(page).filter({ hasText: 'Will delete 4 of 5 snapshots' }).waitFor();
  const planned = await deleteRows(page).evaluateAll((els) => els.map((e) => e.dataset.id));
  assert.deepEqual(planned.sort(), snaps.slice(1).map((s) => s.id).sort());
  await page.locator('[data-testid="cleanup-confirm"]').fill('4');

  // Another tab, a teammate or a script deletes the one snapshot the plan keeps.
  const del = await server.api.post(`/v1/devboxes/disk_snapshots/${kept.id}/delete`);
  assert.equal(del.status, 200, del.text);

  await page.getByRole('button', { name: 'Delete 4 snapshots' }).click();
  await page.getByText(/^Finished:/).waitFor({ timeout: 20_000 });
  const counts = await page.locator('[data-testid="bulk-counts"]').innerText();
  assert.match(counts, /0 deleted · 0 failed · 4 skipped · 0 left/);
  const rows = page.locator('[data-testid="bulk-row"]');
  assert.equal(await rows.count(), 4);
  for (const text of await rows.allInnerTexts()) {
    assert.ok(
      text.includes(`Kept now: ${keptLabel}, which this plan kept, was deleted elsewhere`),
      `row says why: ${text}`,
    );
  }
  const outcomes = await rows.evaluateAll((els) => els.map((e) => e.dataset.outcome));
  assert.ok(outcomes.every((o) => o === 'skipped'), JSON.stringify(outcomes));
  await page.evaluate(() => window.scrollTo(0, 0));
  for (const colorScheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme });
    await screenshot(page, `safety-kept-gone-${colorScheme}`);
  }

  // Behind the UI again: the devbox keeps its four snapshots.
  const left = (await server.api.snapshots(`&devbox_id=${ci.id}`)).map((s) => s.id).sort();
  assert.deepEqual(left, snaps.slice(1).map((s) => s.id).sort());
  assert.deepEqual(errors, []);
  await context.close();
});

test('deleting every snapshot of a devbox by hand keeps its last complete one', async () => {
  const { ci, snaps } = await ciSnapshots();
  assert.ok(snaps.length >= 2, `several snapshots left: ${snaps.length}`);
  const { context, page, errors } = await openApp(browser, server.url, `/snapshots?devbox=${ci.id}`);
  const rowSel = '[data-testid="snapshot-row"]';
  await page.waitForFunction(
    ([sel, n]) => document.querySelectorAll(sel).length === n,
    [rowSel, snaps.length],
  );
  for (const s of snaps) {
    await page.locator(`${rowSel}[data-id="${s.id}"][data-status="complete"]`).waitFor();
  }
  const first = page.locator(`${rowSel}[data-id="${snaps[0].id}"] input[type="checkbox"]`);
  const last = page.locator(`${rowSel}[data-id="${snaps.at(-1).id}"] input[type="checkbox"]`);
  await first.click();
  await last.click({ modifiers: ['Shift'] });
  await page.getByText(`${snaps.length} selected`).waitFor();
  await page.getByRole('button', { name: 'Delete selected…' }).click();
  const dialog = page.getByRole('dialog');
  // The newest complete one is named as risky; nothing typed, the floor keeps it.
  const risky = dialog.locator('[data-testid="confirm-risky"]');
  await risky.first().waitFor();
  assert.deepEqual(await risky.evaluateAll((els) => els.map((e) => e.dataset.id)), [snaps[0].id]);
  assert.match(await risky.first().innerText(), /newest complete snapshot of its devbox/);
  await dialog.getByRole('button', { name: `Delete ${snaps.length} snapshots` }).click();

  await page.getByText(/^Finished:/).waitFor({ timeout: 20_000 });
  const keptRow = page.locator(
    `[data-testid="bulk-row"][data-id="${snaps[0].id}"][data-outcome="skipped"]`,
  );
  await keptRow.waitFor();
  assert.match(await keptRow.innerText(), /last complete snapshot of devbox/);
  assert.match(
    await page.locator('[data-testid="bulk-counts"]').innerText(),
    new RegExp(`${snaps.length - 1} deleted · 0 failed · 1 skipped`),
  );
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshot(page, 'safety-last-complete');
  const left = (await server.api.snapshots(`&devbox_id=${ci.id}`)).map((s) => s.id);
  assert.deepEqual(left, [snaps[0].id], 'the newest complete one stays');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a risky single delete names its risks and needs the name typed; an older one does not', async () => {
  const devboxes = await server.api.devboxes();
  const all = await server.api.snapshots('');
  // A snapshot some running or suspended devbox was started from.
  const child = devboxes.find(
    (d) => ['running', 'suspended'].includes(d.status) && all.some((s) => s.id === d.snapshot_id),
  );
  assert.ok(child, 'the demo seed has a devbox started from a snapshot');
  const snap = all.find((s) => s.id === child.snapshot_id);
  const word = snap.name || snap.id;
  const { context, page, errors } = await openApp(
    browser,
    server.url,
    `/devboxes/${snap.source_devbox_id}`,
  );
  const node = page.locator(
    `[data-testid="snapshot-node"][data-snapshot-id="${snap.id}"][data-status="complete"]`,
  );
  await node.waitFor();
  await node.getByRole('button', { name: 'Delete' }).click();
  const dialog = page.getByRole('dialog');
  const risks = dialog.locator('[data-testid="delete-risks"]');
  await risks.waitFor();
  assert.match(await risks.innerText(), /started from this snapshot: .*/);
  assert.ok((await risks.innerText()).includes(child.name || child.id), await risks.innerText());
  const go = dialog.getByRole('button', { name: 'Delete snapshot' });
  assert.ok(await go.isDisabled(), 'disabled until the name is typed');
  await dialog.getByLabel(/to delete it anyway/).fill(`${word}x`);
  assert.ok(await go.isDisabled(), 'a wrong name does not enable it');
  await dialog.getByLabel(/to delete it anyway/).fill(word);
  for (const colorScheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme });
    await screenshot(page, `safety-risky-delete-${colorScheme}`);
  }
  await go.click();
  await page.getByText(`Deleted snapshot “${word}”.`).waitFor({ timeout: 20_000 });
  const left = (await server.api.snapshots('')).map((s) => s.id);
  assert.ok(!left.includes(snap.id), 'the typed delete went through');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a hand-picked delete of the last complete snapshot goes through once the count is typed', async () => {
  const { ci, snaps } = await ciSnapshots();
  assert.equal(snaps.length, 1, 'the test before left one');
  const { context, page, errors } = await openApp(browser, server.url, `/snapshots?devbox=${ci.id}`);
  const row = page.locator(`[data-testid="snapshot-row"][data-id="${snaps[0].id}"][data-status="complete"]`);
  await row.waitFor();
  await row.locator('input[type="checkbox"]').click();
  await page.getByRole('button', { name: 'Delete selected…' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.locator(`[data-testid="confirm-risky"][data-id="${snaps[0].id}"]`).waitFor();
  await dialog.getByLabel(/to delete these too/).fill('1');
  await screenshot(page, 'safety-bulk-risky-typed');
  await dialog.getByRole('button', { name: 'Delete 1 snapshot' }).click();
  await page.getByText(/^Finished:/).waitFor({ timeout: 20_000 });
  assert.match(
    await page.locator('[data-testid="bulk-counts"]').innerText(),
    /1 deleted · 0 failed · 0 skipped/,
  );
  assert.deepEqual(await server.api.snapshots(`&devbox_id=${ci.id}`), [], 'the override deleted it');
  assert.deepEqual(errors, []);
  await context.close();
});
