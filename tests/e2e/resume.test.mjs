// Workflow: a reload in the middle of a poll resumes it. The operation is persisted in
// localStorage; after the reload the tray shows it still running and polling picks up
// until the snapshot completes.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openApp, screenshot, startServer } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer(['--snapshot-duration-ms', '6000']);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('reloading while a snapshot runs keeps watching it to the end', async () => {
  const devbox = (await server.api.devboxes()).find((d) => d.status === 'running' && d.name);
  const { context, page, errors } = await openApp(browser, server.url, `/devboxes/${devbox.id}`);
  await page.getByRole('button', { name: 'Snapshot', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Take snapshot' });
  await dialog.getByLabel('Name').fill('e2e-survives-reload');
  await dialog.getByLabel('Name').press('Enter');
  const running = page.locator('[data-testid="op-row"][data-state="busy"]')
    .filter({ hasText: 'e2e-survives-reload' });
  await running.waitFor();
  // Let the snapshot id reach storage, then reload mid-poll.
  await page.waitForFunction(() => (localStorage.getItem('snapdeck.ops') || '').includes('snapshot_id'));

  const statusCalls = [];
  page.on('request', (r) => {
    if (/\/disk_snapshots\/[^/]+\/status$/.test(new URL(r.url()).pathname)) statusCalls.push(r.url());
  });
  await page.reload();
  await running.waitFor();
  await screenshot(page, 'resume-after-reload-light');
  await page.locator('[data-testid="op-row"][data-state="ok"]')
    .filter({ hasText: 'e2e-survives-reload' })
    .waitFor({ timeout: 20_000 });
  assert.ok(statusCalls.length > 0, 'status polling resumed after the reload');

  const snap = (await server.api.snapshots(`&devbox_id=${devbox.id}`))
    .find((s) => s.name === 'e2e-survives-reload');
  const status = await server.api.get(`/v1/devboxes/disk_snapshots/${snap.id}/status`);
  assert.equal(status.json.status, 'complete');
  assert.deepEqual(errors, []);
  await context.close();
});
