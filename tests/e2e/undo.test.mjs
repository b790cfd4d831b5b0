// The undo window: a delete started in the dashboard waits (Settings, 10 s by default)
// before anything is sent, with Undo in the toast, the run's panel and the operations
// tray. Undo within the window deletes nothing; a reload during the window cancels
// nothing silently — the pending deletes are shown again, with their window, and can
// still be undone or left to go.

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

async function devboxNamed(name) {
  const d = (await server.api.devboxes()).find((x) => x.name === name);
  assert.ok(d, `the demo seed has ${name}`);
  return d;
}

const ids = async () => new Set((await server.api.snapshots()).map((s) => s.id));

/** Selects the given complete snapshots on /snapshots?devbox= and confirms the delete. */
async function startDelete(page, devbox, pick) {
  await page.goto(`${server.url}/snapshots?devbox=${devbox.id}`);
  for (const id of pick) {
    const row = page.locator(`[data-testid="snapshot-row"][data-id="${id}"][data-status="complete"]`);
    await row.waitFor();
    await row.locator('input[type="checkbox"]').click();
  }
  await page.getByRole('button', { name: 'Delete selected…' }).click();
  const dialog = page.getByRole('dialog');
  const n = pick.length;
  const confirm = dialog.getByRole('button', { name: `Delete ${n} snapshot${n === 1 ? '' : 's'}` });
  await page.waitForFunction(() => !document.querySelector('[role="dialog"] button[type="submit"]')?.disabled);
  await confirm.click();
  await dialog.waitFor({ state: 'detached' });
}

async function newestFirst(devbox) {
  const list = await server.api.snapshots(`&devbox_id=${devbox.id}`);
  return list.sort((a, b) => b.create_time_ms - a.create_time_ms).map((s) => s.id);
}

test('Undo in the toast within the window deletes nothing', async () => {
  const ci = await devboxNamed('ci-warm-cache');
  const pick = (await newestFirst(ci)).slice(1, 3);
  const before = await ids();
  const { context, page, errors } = await openApp(browser, server.url, '/snapshots', { undoSeconds: 6 });
  await startDelete(page, ci, pick);

  // Waiting, and saying so: the panel, the toast and the tray.
  await page.getByRole('heading', { name: /^Deleting 2 snapshots in \d s$/ }).waitFor();
  const toast = page.locator('[data-testid="toast"]').filter({ hasText: 'Delete 2 snapshots in' });
  await toast.waitFor();
  await page.locator('[data-testid="op-row"]').filter({ hasText: 'nothing sent yet' }).waitFor();
  await screenshot(page, 'undo-window-light');
  assert.deepEqual(await ids(), before, 'nothing is sent during the window');

  await toast.getByRole('button', { name: 'Undo' }).click();
  await page.getByText('Undone: nothing was deleted.').waitFor();
  await page.waitForFunction(
    () => document.querySelectorAll('[data-testid="bulk-row"][data-outcome="skipped"]').length === 2,
  );
  // Past the end of the window: still nothing deleted.
  await page.waitForTimeout(6500);
  assert.deepEqual(await ids(), before, 'Undo deleted nothing');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a reload during the window shows the pending deletes again; the tray can undo them', async () => {
  const ci = await devboxNamed('ci-warm-cache');
  const [pick] = (await newestFirst(ci)).slice(1, 2);
  const before = await ids();
  const { context, page, errors } = await openApp(browser, server.url, '/snapshots', { undoSeconds: 8 });
  await startDelete(page, ci, [pick]);
  await page.getByRole('heading', { name: /^Deleting 1 snapshot in \d s$/ }).waitFor();

  await page.reload();
  // Shown again, wherever the app opens, with the window given again and Undo.
  const pending = page.locator('[data-testid="op-row"]').filter({ hasText: 'nothing sent yet' });
  await pending.waitFor();
  assert.deepEqual(await ids(), before, 'the reload sent nothing');
  await pending.locator('[data-testid="op-undo"]').click();
  await page.getByText('Undone: nothing was deleted.').waitFor();
  await page.waitForTimeout(1000);
  assert.deepEqual(await ids(), before, 'undone after the reload: nothing deleted');
  assert.deepEqual(errors, []);
  await context.close();
});

test('left alone, the delete goes once the window ends — exactly what was confirmed', async () => {
  const ci = await devboxNamed('ci-warm-cache');
  const [pick] = (await newestFirst(ci)).slice(1, 2);
  const before = await ids();
  const { context, page, errors } = await openApp(browser, server.url, '/snapshots', { undoSeconds: 2 });
  await startDelete(page, ci, [pick]);
  await page.getByRole('heading', { name: /^Deleting 1 snapshot in \d s$/ }).waitFor();
  assert.ok((await ids()).has(pick), 'not sent during the window');
  await page.getByText(/^Finished:/).waitFor({ timeout: 20_000 });
  const after = await ids();
  assert.deepEqual([...before].filter((id) => !after.has(id)), [pick]);
  assert.deepEqual(errors, []);
  await context.close();
});
