// Workflow: list and filter devboxes. The seeded devboxes show up, the status chip
// filters and lands in the URL, search filters as you type, a deep link works.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openApp, screenshot, screenshotBoth, startServer } from './harness.mjs';

let server;
let browser;

const MOVING = ['queued', 'scheduled', 'provisioning', 'initializing', 'suspending', 'resuming'];

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  // The seed has a devbox still booting: let it settle so counts are stable.
  for (let i = 0; i < 50; i++) {
    const all = await server.api.devboxes();
    if (!all.some((d) => MOVING.includes(d.status))) break;
    await new Promise((r) => setTimeout(r, 200));
  }
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const rows = (page) => page.locator('[data-testid="devbox-row"]');

test('a fresh start with no key set lists the emulator devboxes at once', async () => {
  // What a newcomer sees after scripts/run: no settings yet, same-origin emulator.
  const { context, page } = await openApp(browser, server.url, '/devboxes', { key: null });
  await rows(page).first().waitFor();
  await page.locator('[data-testid="api-target"][data-health="ok"]').waitFor();
  assert.equal(await page.getByTestId('health-banner').count(), 0);
  await context.close();
});

test('the seeded devboxes are listed and the running chip filters them via the URL', async () => {
  const all = await server.api.devboxes();
  assert.ok(all.length > 3, 'the demo seed has devboxes');
  const running = all.filter((d) => d.status === 'running');
  assert.ok(running.length > 0, 'some seeded devboxes are running');

  const { context, page, errors } = await openApp(browser, server.url, '/devboxes');
  await rows(page).first().waitFor();
  assert.equal(await rows(page).count(), Math.min(all.length, 50));
  const named = all.find((d) => d.name);
  await page.getByRole('link', { name: named.name, exact: true }).first().waitFor();
  await page.locator('[data-testid="api-target"][data-health="ok"]').waitFor();

  await page.locator('.sd-chip[data-status="running"]').click();
  await page.waitForURL(/\/devboxes\?status=running$/);
  await page.waitForFunction(
    (n) => document.querySelectorAll('[data-testid="devbox-row"]').length === n,
    running.length,
  );
  const statuses = await rows(page).evaluateAll((els) => els.map((e) => e.dataset.status));
  assert.ok(statuses.every((s) => s === 'running'), `only running rows: ${statuses}`);
  await screenshot(page, 'devboxes-running-filter');

  // Search filters as you type, and `/` focuses the box.
  await page.locator('body').press('/');
  const target = running[0].name ?? running[0].id;
  await page.keyboard.type(target);
  await page.waitForURL((u) => u.searchParams.get('q') === target);
  await page.waitForFunction(
    () => document.querySelectorAll('[data-testid="devbox-row"]').length >= 1,
  );
  assert.equal(new URL(page.url()).searchParams.get('status'), 'running');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a deep link with a status filter opens filtered, in light and dark', async () => {
  const all = await server.api.devboxes();
  const suspended = all.filter((d) => d.status === 'suspended').length;
  await screenshotBoth(browser, server.url, '/devboxes', 'devboxes', async (page) => {
    await rows(page).first().waitFor();
  });
  const { context, page } = await openApp(browser, server.url, '/devboxes?status=suspended');
  if (suspended === 0) {
    await page.getByText('No suspended devboxes.').waitFor();
  } else {
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-testid="devbox-row"]').length === n,
      suspended,
    );
  }
  const active = page.locator('.sd-chip[aria-current="true"]');
  assert.equal(await active.getAttribute('data-status'), 'suspended');
  await context.close();
});

test('the list is usable at 360 px wide', async () => {
  const { context, page } = await openApp(browser, server.url, '/devboxes', {
    viewport: { width: 360, height: 740 },
  });
  await rows(page).first().waitFor();
  await screenshot(page, 'devboxes-mobile');
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  assert.ok(overflow <= 1, `no horizontal page scroll (overflow ${overflow}px)`);
  await context.close();
});

test('? lists the shortcuts and g then s goes to Snapshots', async () => {
  const { context, page } = await openApp(browser, server.url, '/devboxes');
  await rows(page).first().waitFor();
  await page.locator('body').press('?');
  const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await help.waitFor();
  await page.keyboard.press('Escape');
  await help.waitFor({ state: 'detached' });
  await page.locator('body').press('g');
  await page.locator('body').press('s');
  await page.waitForURL(/\/snapshots$/);
  await context.close();
});
