// Workflow: blueprints. Create a blueprint and watch it build phase by phase, start a
// devbox from it by name with the New devbox dialog (it shows in Devboxes at once and
// boots in place), and on from there in one run: snapshot that devbox → its page from
// the tray → metadata merged with a key set behind the UI's back → a new devbox from the
// snapshot → the snapshot's descendants list it. Then try to delete a blueprint that snapshots depend on (refused,
// with the snapshots listed). Screenshots light and dark at 1280 and 360 px.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openApp, screenshot, snapshotOpRow, startServer, takeSnapshot } from './harness.mjs';

let server;
let browser;

before(async () => {
  // Slow enough builds that each phase is on screen for a while.
  server = await startServer(['--blueprint-build-ms', '6000']);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const badge = (page) => page.getByTestId('blueprint-status').first();

test('a blueprint built from the dialog starts a devbox by name that boots in Devboxes', async () => {
  const { context, page, errors } = await openApp(browser, server.url, '/blueprints');
  await page.locator('[data-testid="blueprint-row"]').first().waitFor();
  await page.getByRole('button', { name: 'New blueprint' }).click();
  const dialog = page.getByRole('dialog', { name: 'New blueprint' });
  await dialog.getByLabel('Name', { exact: true }).fill('e2e-node');
  await dialog.getByRole('textbox', { name: /Dockerfile/ }).fill('FROM runloop/universal-ubuntu-24.04\nRUN apt-get install -y jq');
  await dialog.getByLabel(/System setup commands/).fill('npm i -g pnpm\nnpx playwright install');
  await dialog.getByLabel('Metadata key').fill('team');
  await dialog.getByLabel('Metadata value').fill('e2e');
  await dialog.getByRole('button', { name: 'Create and build' }).click();
  await page.waitForURL(/\/blueprints\/bpt_/);
  const id = page.url().split('/').pop();

  // Watch the phases go by on the page (no reload): each is shown before it ends.
  const seen = new Set();
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const s = await badge(page).getAttribute('data-status').catch(() => null);
    if (s) seen.add(s);
    if (s === 'build_complete') break;
    await page.waitForTimeout(150);
  }
  assert.ok(seen.has('build_complete'), `ended built: ${[...seen]}`);
  assert.ok(
    ['queued', 'provisioning', 'building'].some((s) => seen.has(s)),
    `a build phase was shown live: ${[...seen]}`,
  );
  const log = page.getByTestId('build-log');
  await log.getByText('Build complete').waitFor();
  assert.match(await log.textContent(), /RUN npm i -g pnpm/);
  assert.match(await page.locator('.sd-params').textContent(), /apt-get install -y jq/);
  const bp = (await server.api.get(`/v1/blueprints/${id}`)).json;
  assert.equal(bp.status, 'build_complete');
  assert.equal(bp.metadata.team, 'e2e');

  // Devboxes → n → from the blueprint, by name.
  await page.getByRole('link', { name: 'Devboxes' }).first().click();
  await page.locator('[data-testid="devbox-row"]').first().waitFor();
  await page.keyboard.press('n');
  const nd = page.getByRole('dialog', { name: 'New devbox' });
  await nd.waitFor();
  await nd.getByText('Blueprint', { exact: true }).click();
  assert.match(await nd.getByTestId('source-hint').textContent(), /Caches set-up steps every devbox needs/);
  await nd.getByLabel('Blueprint name or id').fill('e2e-node');
  await nd.getByLabel('Name', { exact: true }).fill('e2e-from-blueprint');
  await nd.getByLabel('Resource size').selectOption('MEDIUM');
  assert.match(
    await nd.getByTestId('new-devbox-summary').textContent(),
    /Starts “e2e-from-blueprint” from the latest successful build of blueprint “e2e-node” on MEDIUM x86_64/,
  );
  await screenshot(page, 'blueprints-new-devbox-light');
  await nd.getByRole('button', { name: 'Start devbox' }).click();
  await nd.waitFor({ state: 'detached' });

  // In the list at once (still booting), then running without a reload.
  const row = page.locator('[data-testid="devbox-row"]').filter({ hasText: 'e2e-from-blueprint' });
  await row.waitFor({ timeout: 5_000 });
  await row.and(page.locator('[data-status="running"]')).waitFor({ timeout: 15_000 });
  const created = (await server.api.devboxes()).find((d) => d.name === 'e2e-from-blueprint');
  assert.equal(created.blueprint_id, id, 'the name resolved to the build just made');
  assert.equal(created.launch_parameters.resource_size_request, 'MEDIUM');
  // Its source links to the blueprint's page, which lists it in the family.
  await row.getByRole('link', { name: id.slice(0, 6), exact: false }).click();
  await page.waitForURL(new RegExp(`/blueprints/${id}$`));
  await page.getByTestId('family-devboxes').getByText('e2e-from-blueprint').waitFor();

  // The chain goes on from that devbox: take a snapshot → open its page from the tray.
  await page.goto(`${server.url}/devboxes/${created.id}`);
  await takeSnapshot(page, 'e2e-bp-snap');
  const op = snapshotOpRow(page, 'e2e-bp-snap');
  await op.and(page.locator('[data-state="ok"]')).waitFor({ timeout: 20_000 });
  await op.getByTestId('op-snapshot-link').click();
  await page.waitForURL(/\/snapshots\/[^/]+$/);
  const snapId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop());
  await page.getByRole('heading', { name: 'e2e-bp-snap' }).waitFor();
  await page.getByTestId('snapshot-status').and(page.locator('[data-status="complete"]')).waitFor({ timeout: 20_000 });
  // Its ancestry starts at the blueprint just built: blueprint → devbox → this snapshot.
  const ancestry = page.getByTestId('ancestry');
  await ancestry.getByText('e2e-node').waitFor();
  await ancestry.getByText('e2e-from-blueprint').waitFor();

  // Edit its metadata while another key is set behind the UI's back: both survive.
  const meta = page.getByTestId('snapshot-metadata');
  await meta.getByRole('button', { name: 'Edit' }).click();
  const editor = page.getByTestId('metadata-editor');
  await editor.getByRole('button', { name: '+ Add pair' }).click();
  await editor.getByPlaceholder('key').last().fill('stage');
  await editor.getByPlaceholder('value').last().fill('warm');
  const current = (await server.api.get(`/v1/devboxes/disk_snapshots/${snapId}/status`)).json.snapshot;
  const behind = await server.api.post(`/v1/devboxes/disk_snapshots/${snapId}`, {
    name: current.name,
    commit_message: current.commit_message,
    metadata: { ...current.metadata, reviewer: 'ops' },
  });
  assert.equal(behind.status, 200, behind.text);
  await editor.getByRole('button', { name: 'Save metadata' }).click();
  await editor.waitFor({ state: 'detached' });
  await meta.getByText('reviewer').waitFor();
  const merged = (await server.api.get(`/v1/devboxes/disk_snapshots/${snapId}/status`)).json.snapshot;
  assert.equal(merged.metadata.reviewer, 'ops', 'the key set behind the UI survives the merge');
  assert.equal(merged.metadata.stage, 'warm');

  // New devbox from it (the one New devbox dialog, this snapshot preselected).
  await page.getByTestId('new-devbox-from-snapshot').click();
  const fromSnap = page.getByRole('dialog', { name: 'New devbox' });
  await fromSnap.waitFor();
  assert.equal(await fromSnap.getByLabel('Snapshot id').inputValue(), snapId, 'preselected');
  assert.match(await fromSnap.getByTestId('source-hint').textContent(), /Continues from where one devbox was/);
  await fromSnap.getByLabel('Name', { exact: true }).fill('e2e-from-snapshot');
  await screenshot(page, 'blueprints-chain-new-devbox-from-snapshot-light');
  await fromSnap.getByRole('button', { name: 'Start devbox' }).click();
  await fromSnap.waitFor({ state: 'detached' });
  // Its descendants list shows that devbox.
  await page.getByTestId('descendant').filter({ hasText: 'e2e-from-snapshot' }).waitFor({ timeout: 20_000 });
  const child = (await server.api.devboxes()).find((d) => d.name === 'e2e-from-snapshot');
  assert.equal(child.snapshot_id, snapId, 'started from the snapshot');
  await screenshot(page, 'blueprints-chain-snapshot-page-light');
  assert.deepEqual(errors, []);
  await context.close();
});

test('deleting a blueprint that snapshots depend on is refused and lists them', async () => {
  const bp = (await server.api.get('/v1/blueprints?name=python-ml-base')).json.blueprints[0];
  const deps = await server.api.snapshots(`&source_blueprint_id=${bp.id}`);
  assert.ok(deps.length > 0, 'the demo has snapshots of this blueprint');
  const { context, page, errors } = await openApp(browser, server.url, '/blueprints?q=python');
  const row = page.locator('[data-testid="blueprint-row"]');
  await row.first().waitFor();
  assert.equal(await row.count(), 1, 'the search narrows the list');
  // Family sizes are shown in the row.
  await row.locator('td.sd-num').last().getByText(String(deps.length), { exact: true }).waitFor();
  await row.getByRole('link', { name: 'python-ml-base' }).click();
  await page.waitForURL(new RegExp(`/blueprints/${bp.id}$`));
  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete blueprint' }).click();
  const refused = page.getByTestId('delete-refused');
  await refused.waitFor();
  for (const s of deps) {
    await refused.locator(`[data-id="${s.id}"]`).waitFor();
  }
  assert.match(await refused.textContent(), new RegExp(`${deps.length} snapshots still depend`));
  assert.equal((await server.api.get(`/v1/blueprints/${bp.id}`)).status, 200, 'still there');
  await screenshot(page, 'blueprints-delete-refused-light');
  assert.deepEqual(errors, []);
  await context.close();
});

test('the blueprint pages in light and dark, wide and narrow', async () => {
  const bp = (await server.api.get('/v1/blueprints?name=python-ml-base')).json.blueprints[0];
  for (const colorScheme of ['light', 'dark']) {
    for (const width of [1280, 360]) {
      const opts = { colorScheme, viewport: { width, height: 800 } };
      const tag = `${colorScheme}-${width}`;
      const { context, page, errors } = await openApp(browser, server.url, '/blueprints', opts);
      await page.locator('[data-testid="blueprint-row"] td.sd-num:last-child .sd-mono').first().waitFor();
      await screenshot(page, `blueprints-list-${tag}`);
      await page.goto(`${server.url}/blueprints/${bp.id}`);
      await page.getByTestId('family-devboxes').waitFor();
      await page.getByTestId('build-log').getByText('Build complete').waitFor();
      await screenshot(page, `blueprints-page-${tag}`);
      await page.keyboard.press('n');
      const nd = page.getByRole('dialog', { name: 'New devbox' });
      await nd.waitFor();
      assert.equal(await nd.getByLabel('Blueprint name or id').inputValue(), bp.id, 'preselected');
      await screenshot(page, `blueprints-new-devbox-${tag}`);
      assert.deepEqual(errors, []);
      await context.close();
    }
  }
});
