// Shutting down a devbox while one of its snapshots runs: the API answers 409, the
// dialog explains why and offers to force; forcing shuts it down.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openApp, screenshot, startServer } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer(['--snapshot-duration-ms', '60000']);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('shutdown during a snapshot explains the 409 and can force', async () => {
  const devbox = (await server.api.devboxes()).find((d) => d.status === 'running' && d.name);
  const { context, page } = await openApp(browser, server.url, `/devboxes/${devbox.id}`);
  await page.getByRole('button', { name: 'Snapshot', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Take snapshot' });
  await dialog.getByLabel('Name').fill('e2e-long-one');
  await dialog.getByLabel('Name').press('Enter');
  await page.locator('[data-testid="snapshot-node"][data-status="in_progress"]').first().waitFor();

  await page.getByRole('button', { name: 'Shut down' }).click();
  const confirm = page.getByRole('dialog', { name: /Shut down/ });
  await confirm.getByRole('button', { name: 'Shut down' }).click();
  const why = confirm.getByTestId('shutdown-409');
  await why.waitFor();
  assert.match(await why.textContent(), /still in progress/);
  await screenshot(page, 'shutdown-409-light');
  assert.equal((await server.api.get(`/v1/devboxes/${devbox.id}`)).json.status, 'running');

  await confirm.getByRole('button', { name: 'Force shutdown' }).click();
  await confirm.waitFor({ state: 'detached' });
  await page.locator('.sd-devbox__title .sd-badge', { hasText: 'shutdown' }).waitFor();
  assert.equal((await server.api.get(`/v1/devboxes/${devbox.id}`)).json.status, 'shutdown');
  await context.close();
});

test('an unreachable base URL says so in the top bar', async () => {
  const { context, page } = await openApp(browser, server.url, '/settings');
  await page.getByLabel('API base URL').fill('http://127.0.0.1:9');
  await page.getByRole('button', { name: 'Save' }).click();
  const banner = page.getByTestId('health-banner');
  await banner.waitFor({ timeout: 15_000 });
  assert.match(await banner.textContent(), /unreachable.*Check the API base URL in Settings/);
  assert.match(await page.getByTestId('api-target').textContent(), /127\.0\.0\.1:9/);
  await screenshot(page, 'unreachable-light');
  await context.close();
});

test('the devbox page is usable at 360 px wide', async () => {
  const devbox = (await server.api.devboxes()).find((d) => d.status === 'running' && d.name);
  const { context, page } = await openApp(browser, server.url, `/devboxes/${devbox.id}`, {
    viewport: { width: 360, height: 740 },
  });
  await page.getByRole('heading', { level: 1 }).waitFor();
  await page.waitForTimeout(500);
  await screenshot(page, 'devbox-mobile');
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  assert.ok(overflow <= 1, `no horizontal page scroll (overflow ${overflow}px)`);
  await context.close();
});
