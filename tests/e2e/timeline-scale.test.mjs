// A devbox with thousands of snapshots stays light: the timeline is paged, so the DOM
// holds one page of nodes, and statuses are fetched for those nodes only.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openApp, startServer } from './harness.mjs';

const COUNT = 2000;
let server;
let browser;
let devbox;

before(async () => {
  server = await startServer(['--snapshot-duration-ms', '200']);
  browser = await launchBrowser();
  devbox = (await server.api.devboxes()).find((d) => d.status === 'running' && d.name);
  let next = 0;
  const worker = async () => {
    while (next < COUNT) {
      const i = next++;
      const r = await server.api.post(`/v1/devboxes/${devbox.id}/snapshot_disk_async`, {
        name: `bulk-${String(i).padStart(5, '0')}`,
      });
      assert.equal(r.status, 200, r.text);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test(`a devbox with ${COUNT}+ snapshots renders one page of the timeline`, async () => {
  const statusCalls = [];
  const { context, page, errors } = await openApp(browser, server.url, `/devboxes/${devbox.id}`);
  page.on('request', (r) => {
    if (r.url().endsWith('/status')) statusCalls.push(r.url());
  });
  const started = Date.now();
  await page.locator('[data-testid="snapshot-node"]').first().waitFor({ timeout: 30_000 });
  const loadMs = Date.now() - started;
  const nodes = await page.locator('[data-testid="snapshot-node"]').count();
  assert.ok(nodes <= 50, `one page of nodes in the DOM (got ${nodes})`);
  const rows = await page.evaluate(() => document.querySelectorAll('li, tr').length);
  assert.ok(rows < 500, `fewer than 500 rows in the DOM (got ${rows})`);
  await page.getByText(new RegExp(`1–50 of ${COUNT + 5}|1–50 of \\d{4} snapshots`)).waitFor();

  await page.waitForTimeout(1500);
  assert.ok(statusCalls.length <= 60, `statuses fetched for visible nodes only (${statusCalls.length})`);

  const t0 = Date.now();
  await page.getByRole('link', { name: 'Next →' }).click();
  await page.waitForURL(/page=2/);
  await page.locator('[data-testid="snapshot-node"]').first().waitFor();
  const flipMs = Date.now() - t0;
  assert.ok(flipMs < 2000, `next page in ${flipMs} ms`);
  console.log(`# timeline: first paint ${loadMs} ms, page flip ${flipMs} ms, ${statusCalls.length} status calls`);
  assert.deepEqual(errors, []);
  await context.close();
});
