// Workflow: snapshot and poll. The dialog's defaults, Enter to submit, the new node in
// progress at once, then complete; a snapshot that errors (fault control); the tray's
// record of both; the devbox page in light and dark.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openApp, screenshot, screenshotBoth, startServer } from './harness.mjs';

let server;
let browser;
let devbox;

before(async () => {
  server = await startServer(['--snapshot-duration-ms', '2500']);
  browser = await launchBrowser();
  const all = await server.api.devboxes();
  // A running devbox that already has a few snapshots.
  const counts = await Promise.all(
    all.map(async (d) => [d, (await server.api.snapshots(`&devbox_id=${d.id}`)).length]),
  );
  devbox = counts
    .filter(([d, n]) => d.status === 'running' && d.name && n > 0)
    .sort((a, b) => b[1] - a[1])[0][0];
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const nodes = (page) => page.locator('[data-testid="snapshot-node"]');

test('the devbox page shows its timeline newest first, in light and dark', async () => {
  const snaps = await server.api.snapshots(`&devbox_id=${devbox.id}`);
  await screenshotBoth(browser, server.url, `/devboxes/${devbox.id}`, 'devbox', async (page) => {
    await nodes(page).first().waitFor();
    await page.waitForFunction(
      () => [...document.querySelectorAll('[data-testid="snapshot-node"]')]
        .every((n) => n.dataset.status !== 'unknown'),
    );
  });
  const { context, page } = await openApp(browser, server.url, `/devboxes/${devbox.id}`);
  await nodes(page).first().waitFor();
  assert.equal(await nodes(page).count(), snaps.length);
  const ids = await nodes(page).evaluateAll((els) => els.map((e) => e.dataset.snapshotId));
  const newestFirst = [...snaps].sort((a, b) => b.create_time_ms - a.create_time_ms).map((s) => s.id);
  assert.deepEqual(ids, newestFirst);
  await page.getByTestId('origin').waitFor();
  await context.close();
});

test('a snapshot taken from the dialog shows in progress, then complete', async () => {
  const { context, page, errors } = await openApp(browser, server.url, `/devboxes/${devbox.id}`);
  await nodes(page).first().waitFor();
  const before = await nodes(page).count();

  await page.getByRole('button', { name: 'Snapshot', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Take snapshot' });
  await dialog.waitFor();
  const name = dialog.getByLabel('Name');
  const prefilled = await name.inputValue();
  assert.match(prefilled, new RegExp(`^${devbox.name}-\\d{8}-\\d{4}$`));
  await screenshot(page, 'snapshot-dialog-light');
  await name.fill('e2e-before-upgrade');
  await dialog.getByLabel('Commit message').fill('deps bumped, tests green');
  await dialog.getByLabel('Metadata key').fill('env');
  await dialog.getByLabel('Metadata value').fill('staging');
  await name.press('Enter');
  await dialog.waitFor({ state: 'detached' });

  const node = nodes(page).filter({ hasText: 'e2e-before-upgrade' });
  await node.waitFor();
  assert.equal(await nodes(page).count(), before + 1);
  await page.waitForFunction(
    () => [...document.querySelectorAll('[data-testid="snapshot-node"]')]
      .some((n) => n.textContent.includes('e2e-before-upgrade') && n.dataset.status === 'in_progress'),
  );
  await page.getByTestId('ops-tray').getByText('Snapshot “e2e-before-upgrade”').waitFor();
  await screenshot(page, 'snapshot-in-progress-light');
  await page.waitForFunction(
    () => [...document.querySelectorAll('[data-testid="snapshot-node"]')]
      .some((n) => n.textContent.includes('e2e-before-upgrade') && n.dataset.status === 'complete'),
    null,
    { timeout: 15_000 },
  );
  await page.locator('[data-testid="op-row"][data-state="ok"]').first().waitFor();
  assert.match(await node.textContent(), /deps bumped, tests green/);
  assert.match(await node.textContent(), /env=staging/);

  const made = (await server.api.snapshots(`&devbox_id=${devbox.id}`))
    .find((s) => s.name === 'e2e-before-upgrade');
  assert.equal(made.commit_message, 'deps bumped, tests green');
  assert.equal(made.metadata.env, 'staging');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a snapshot that fails shows its error in the timeline and the tray', async () => {
  await server.api.faults({ fail_next_snapshots: 1 });
  const { context, page } = await openApp(browser, server.url, `/devboxes/${devbox.id}`);
  await nodes(page).first().waitFor();
  await page.getByRole('button', { name: 'Snapshot', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Take snapshot' });
  await dialog.getByLabel('Name').fill('e2e-doomed');
  await dialog.getByRole('button', { name: 'Take snapshot' }).click();
  await page.waitForFunction(
    () => [...document.querySelectorAll('[data-testid="snapshot-node"]')]
      .some((n) => n.textContent.includes('e2e-doomed') && n.dataset.status === 'error'),
    null,
    { timeout: 15_000 },
  );
  const node = nodes(page).filter({ hasText: 'e2e-doomed' });
  assert.match(await node.textContent(), /error/);
  await page.locator('[data-testid="op-row"][data-state="err"]').first().waitFor();
  assert.match(
    await page.locator('[data-testid="op-row"][data-state="err"]').first().textContent(),
    /failed: /,
  );
  await screenshot(page, 'snapshot-error-light');
  await context.close();
});

test('the snapshot dialog and the tray in dark', async () => {
  const { context, page } = await openApp(browser, server.url, `/devboxes/${devbox.id}`, {
    colorScheme: 'dark',
  });
  await nodes(page).first().waitFor();
  await page.getByRole('button', { name: 'Snapshot', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Take snapshot' });
  await dialog.getByLabel('Commit message').fill('nightly state');
  await screenshot(page, 'snapshot-dialog-dark');
  await dialog.getByLabel('Name').press('Enter');
  await page.locator('[data-testid="op-row"][data-state="busy"]').first().waitFor();
  await screenshot(page, 'snapshot-in-progress-dark');
  await context.close();
});

test('pinning merges into the existing metadata and unpinning removes only the pin', async () => {
  const snaps = await server.api.snapshots(`&devbox_id=${devbox.id}`);
  const target = snaps.find((s) => s.name && Object.keys(s.metadata).length > 0
    && s.metadata['snapdeck.pinned'] !== 'true');
  const before = { ...target.metadata };
  const { context, page } = await openApp(browser, server.url, `/devboxes/${devbox.id}`);
  const node = page.locator(`[data-testid="snapshot-node"][data-snapshot-id="${target.id}"]`);
  await node.waitFor();
  await node.getByRole('button', { name: `Pin ${target.name}`, exact: true }).click();
  await node.getByRole('button', { name: `Unpin ${target.name}`, exact: true }).waitFor();
  let now = (await server.api.snapshots(`&devbox_id=${devbox.id}`)).find((s) => s.id === target.id);
  assert.deepEqual(now.metadata, { ...before, 'snapdeck.pinned': 'true' });
  assert.equal(now.name, target.name);
  assert.equal(now.commit_message, target.commit_message);

  await node.getByRole('button', { name: `Unpin ${target.name}`, exact: true }).click();
  await node.getByRole('button', { name: `Pin ${target.name}`, exact: true }).waitFor();
  now = (await server.api.snapshots(`&devbox_id=${devbox.id}`)).find((s) => s.id === target.id);
  assert.deepEqual(now.metadata, before);
  await context.close();
});

test('a dialog stays open while the timeline refreshes underneath it', async () => {
  const { context, page } = await openApp(browser, server.url, `/devboxes/${devbox.id}`);
  await nodes(page).first().waitFor();
  await page.getByRole('button', { name: 'Snapshot', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Take snapshot' });
  await dialog.getByLabel('Name').fill('e2e-under-a-dialog');
  await dialog.getByLabel('Name').press('Enter');
  const complete = nodes(page).and(page.locator('[data-status="complete"]')).last();
  await complete.getByRole('button', { name: 'Restore', exact: true }).click();
  const restore = page.getByRole('dialog', { name: /^Restore/ });
  await restore.getByLabel('New devbox name').fill('typed-while-refreshing');
  // The snapshot completes meanwhile (the list refetches); the dialog and what was
  // typed must survive.
  await page.locator('[data-testid="op-row"][data-state="ok"]')
    .filter({ hasText: 'e2e-under-a-dialog' })
    .waitFor({ timeout: 15_000 });
  await page.waitForTimeout(500);
  assert.equal(await restore.getByLabel('New devbox name').inputValue(), 'typed-while-refreshing');
  await page.keyboard.press('Escape');
  await restore.waitFor({ state: 'detached' });
  await context.close();
});
