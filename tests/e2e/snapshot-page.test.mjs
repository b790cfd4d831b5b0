// Workflow: a snapshot's own page. Take a snapshot (after an earlier one, so the
// estimate has a history) → open its page from the tray → status live (elapsed and an
// estimate) then complete → edit its metadata while another key is set behind the UI's
// back (it survives the merge) → start a devbox from it → the descendants list shows
// that devbox; then delete another snapshot from its page, which turns into the page of
// a snapshot that no longer exists, with its last known facts.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openApp, screenshot, snapshotOpRow, startServer, takeSnapshot } from './harness.mjs';

let server;
let browser;

before(async () => {
  // Long enough to watch it run; short enough for a test.
  server = await startServer(['--snapshot-duration-ms', '6000']);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const PINNED = 'snapdeck.pinned';

const opRow = snapshotOpRow;

test('a snapshot page: live status with an estimate, merged metadata, descendants, and a deleted snapshot', async () => {
  const devbox = (await server.api.devboxes()).find((d) => d.status === 'running' && d.name);
  const { context, page, errors } = await openApp(browser, server.url, `/devboxes/${devbox.id}`);

  // An earlier snapshot, watched to the end in this browser: the history.
  await takeSnapshot(page, 'e2e-warm');
  await opRow(page, 'e2e-warm').and(page.locator('[data-state="ok"]')).waitFor({ timeout: 20_000 });

  await takeSnapshot(page, 'e2e-page');
  const link = opRow(page, 'e2e-page').getByTestId('op-snapshot-link');
  await link.waitFor();
  await link.click();
  await page.waitForURL(/\/snapshots\/[^/]+$/);
  const id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop());
  await page.getByRole('heading', { name: 'e2e-page' }).waitFor();

  // Live: in progress, with the elapsed time and an estimate from e2e-warm.
  const status = page.getByTestId('snapshot-status');
  await status.and(page.locator('[data-status="in_progress"]')).waitFor({ timeout: 5_000 });
  const live = page.getByTestId('snapshot-live');
  await live.waitFor();
  assert.match(await live.textContent(), /running \d+:\d\d · (about \d+ s left|any moment now)/);
  await screenshot(page, 'snapshot-page-running-light-1280');
  await status.and(page.locator('[data-status="complete"]')).waitFor({ timeout: 20_000 });
  await live.waitFor({ state: 'detached' });

  // The editor opens on the map the page has; the person adds one pair.
  const meta = page.getByTestId('snapshot-metadata');
  await meta.getByRole('button', { name: 'Edit' }).click();
  const editor = page.getByTestId('metadata-editor');
  await editor.getByRole('button', { name: '+ Add pair' }).click();
  await editor.getByPlaceholder('key').last().fill('owner');
  await editor.getByPlaceholder('value').last().fill('e2e');

  // While the editor is open, the page reloads the snapshot (pinning it bumps the data
  // version, and every view refetches): the copy shown updates, the open edit stays.
  await page.getByRole('button', { name: 'Pin e2e-page', exact: true }).click();
  await page.getByRole('button', { name: 'Unpin e2e-page', exact: true }).waitFor();
  await editor.waitFor();
  assert.equal(await editor.getByPlaceholder('value').last().inputValue(), 'e2e');

  // Meanwhile, behind the UI's back, another key is set through the API (the update
  // replaces the whole map, so send what is there plus the new key).
  const current = (await server.api.get(`/v1/devboxes/disk_snapshots/${id}/status`)).json.snapshot;
  assert.equal(current.metadata.ticket, undefined);
  const behind = await server.api.post(`/v1/devboxes/disk_snapshots/${id}`, {
    name: current.name,
    commit_message: current.commit_message,
    metadata: { ...current.metadata, ticket: 'T-42' },
  });
  assert.equal(behind.status, 200, behind.text);
  assert.doesNotMatch(await editor.textContent(), /T-42/);

  // Save merges the one change onto a fresh copy: `ticket` survives.
  await editor.getByRole('button', { name: 'Save metadata' }).click();
  await editor.waitFor({ state: 'detached' });
  await meta.getByText('ticket').waitFor();
  await meta.getByText('owner').waitFor();
  const after = (await server.api.get(`/v1/devboxes/disk_snapshots/${id}/status`)).json.snapshot;
  assert.equal(after.metadata.ticket, 'T-42', 'the key set behind the UI survives the merge');
  assert.equal(after.metadata.owner, 'e2e');
  assert.equal(after.metadata[PINNED], 'true', 'the pin set while editing survives too');
  assert.equal(after.name, 'e2e-page');

  // Ancestry ends here; a devbox started from it shows up under Descendants.
  await page.getByTestId('ancestry').getByText(devbox.name).waitFor();
  await page.getByTestId('descendants-empty').waitFor();
  await page.getByRole('button', { name: 'Restore', exact: true }).click();
  const restore = page.getByRole('dialog', { name: 'Restore “e2e-page”' });
  await restore.getByRole('button', { name: 'Restore', exact: true }).click();
  await restore.waitFor({ state: 'detached' });
  const child = page.getByTestId('descendant').filter({ hasText: 'restored-e2e-page' });
  await child.waitFor({ timeout: 20_000 });
  await page.locator('[data-testid="op-row"]').filter({ hasText: 'Restore “e2e-page”' })
    .and(page.locator('[data-state="ok"]')).waitFor({ timeout: 20_000 });

  // Light and dark, wide and narrow.
  for (const colorScheme of ['light', 'dark']) {
    for (const width of [1280, 360]) {
      const c = await openApp(browser, server.url, `/snapshots/${encodeURIComponent(id)}`, {
        colorScheme, viewport: { width, height: 800 },
      });
      await c.page.getByTestId('descendant').filter({ hasText: 'restored-e2e-page' }).waitFor({ timeout: 10_000 });
      await c.page.getByTestId('descendant').getByText(/1 snapshot|0 snapshots/).waitFor();
      await screenshot(c.page, `snapshot-page-${colorScheme}-${width}`);
      assert.deepEqual(c.errors, []);
      await c.context.close();
    }
  }

  // Delete e2e-warm from its page (not the newest, no devbox from it: a plain confirm);
  // the page then says it no longer exists, with what this browser last saw.
  const warm = (await server.api.snapshots(`&devbox_id=${devbox.id}`)).find((s) => s.name === 'e2e-warm');
  await page.goto(`${server.url}/snapshots/${encodeURIComponent(warm.id)}`);
  await page.getByRole('heading', { name: 'e2e-warm' }).waitFor();
  await page.getByTestId('snapshot-status').and(page.locator('[data-status="complete"]')).waitFor();
  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  const confirm = page.getByRole('dialog', { name: 'Delete snapshot “e2e-warm”?' });
  await confirm.getByRole('button', { name: 'Delete snapshot' }).click();
  const gone = page.getByTestId('snapshot-gone');
  await gone.waitFor({ timeout: 20_000 });
  await gone.getByText('This snapshot no longer exists').waitFor();
  const facts = page.getByTestId('last-known');
  await facts.getByText('e2e-warm').waitFor();
  await screenshot(page, 'snapshot-page-gone-light-1280');
  const st = await server.api.get(`/v1/devboxes/disk_snapshots/${warm.id}/status`);
  assert.ok(st.status === 404 || st.json?.status === 'deleted', st.text);

  // A reload (a 404 from the API now) keeps the last known facts.
  await page.reload();
  await page.getByTestId('last-known').getByText('e2e-warm').waitFor();
  for (const colorScheme of ['dark']) {
    const c = await openApp(browser, server.url, `/snapshots/${encodeURIComponent(warm.id)}`, {
      colorScheme, viewport: { width: 360, height: 800 },
    });
    // A fresh browser never saw it: the page says so.
    await c.page.getByTestId('snapshot-gone').getByText('never saw it').waitFor();
    await screenshot(c.page, `snapshot-page-gone-unknown-${colorScheme}-360`);
    await c.context.close();
  }
  assert.deepEqual(errors, []);
  await context.close();
});
