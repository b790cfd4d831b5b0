// Workflow: rollback. Take a snapshot of a devbox with a known file, change the file,
// restore the snapshot into a new devbox (shutting the old one down once the new one
// runs), and check through the API that the new devbox has the snapshot's file.

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

const nodes = (page) => page.locator('[data-testid="snapshot-node"]');

test('restore creates a devbox with the snapshot\'s files and shuts the old one down', async () => {
  const devbox = (await server.api.devboxes()).find((d) => d.status === 'running' && d.name);
  const marker = `restore me ${Date.now()}`;
  const w = await server.api.post(`/v1/devboxes/${devbox.id}/write_file_contents`, {
    file_path: 'notes/e2e.txt',
    contents: marker,
  });
  assert.equal(w.status, 200, w.text);

  const { context, page, errors } = await openApp(browser, server.url, `/devboxes/${devbox.id}`);
  await page.getByRole('button', { name: 'Snapshot', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Take snapshot' });
  await dialog.getByLabel('Name').fill('e2e-restore-point');
  await dialog.getByLabel('Name').press('Enter');
  const node = nodes(page).filter({ hasText: 'e2e-restore-point' });
  await node.locator('xpath=.').and(page.locator('[data-status="complete"]')).waitFor({ timeout: 15_000 });

  // Change the file after the snapshot: the restore must bring back the old contents.
  await server.api.post(`/v1/devboxes/${devbox.id}/write_file_contents`, {
    file_path: 'notes/e2e.txt',
    contents: 'changed after the snapshot',
  });

  await node.getByRole('button', { name: 'Restore', exact: true }).click();
  const restore = page.getByRole('dialog', { name: 'Restore “e2e-restore-point”' });
  await restore.waitFor();
  assert.equal(await restore.getByLabel('New devbox name').inputValue(), 'restored-e2e-restore-point');
  await restore.getByLabel(/Shut down .* when the new one is running/).check();
  await screenshot(page, 'restore-dialog-light');
  await restore.getByRole('button', { name: 'Restore', exact: true }).click();
  await restore.waitFor({ state: 'detached' });

  const op = page.locator('[data-testid="op-row"]').filter({ hasText: 'Restore “e2e-restore-point”' });
  await op.and(page.locator('[data-state="ok"]')).waitFor({ timeout: 20_000 });
  assert.match(await op.textContent(), /old devbox shut down/);
  await screenshot(page, 'restore-done-light');

  await op.getByRole('link', { name: /restored-e2e-restore-point/ }).click();
  await page.waitForURL(/\/devboxes\/dbx_/);
  await page.getByRole('heading', { name: 'restored-e2e-restore-point' }).waitFor();
  await page.getByTestId('origin').getByText('“e2e-restore-point”').waitFor();

  const restored = (await server.api.devboxes()).find((d) => d.name === 'restored-e2e-restore-point');
  assert.equal(restored.status, 'running');
  const read = await server.api.post(`/v1/devboxes/${restored.id}/read_file_contents`, {
    file_path: 'notes/e2e.txt',
  });
  assert.equal(read.status, 200, read.text);
  assert.equal(read.text, marker);

  const old = (await server.api.get(`/v1/devboxes/${devbox.id}`)).json;
  assert.equal(old.status, 'shutdown');
  assert.deepEqual(errors, []);
  await context.close();
});
