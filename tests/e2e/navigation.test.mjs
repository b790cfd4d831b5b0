// Leaving a page aborts its own requests: the Snapshots page's list is still on its
// way (the emulator holds every /v1 request for 2.5 s) when the person goes back to
// Devboxes; that list request is cancelled in the browser, not left to finish for a
// page nobody sees, and the cancel is not mistaken for the API being down.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openApp, startServer } from './harness.mjs';

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

test('a page that goes away aborts its requests still in flight', async () => {
  const { context, page, errors } = await openApp(browser, server.url, '/devboxes');
  await page.locator('[data-testid="devbox-row"]').first().waitFor();
  const failed = [];
  page.on('requestfailed', (r) => failed.push({ url: r.url(), error: r.failure()?.errorText }));
  const listed = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname === '/v1/devboxes/disk_snapshots') listed.push(r.url());
  });

  await server.api.faults({ fault_latency_ms: 2500 });
  try {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Snapshots' }).click();
    await page.waitForURL((u) => u.pathname === '/snapshots');
    await page.waitForFunction(() => document.querySelector('.sd-page') !== null);
    // The list request went out; leave before it can answer.
    await page.waitForTimeout(300);
    assert.ok(listed.length >= 1, 'the Snapshots page asked for its list');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Devboxes' }).click();
    await page.waitForURL((u) => u.pathname === '/devboxes');
    // Chromium reports the cancelled fetch at once.
    const deadline = Date.now() + 2000;
    while (Date.now() < deadline && !failed.some((f) => f.url.includes('/v1/devboxes/disk_snapshots'))) {
      await page.waitForTimeout(50);
    }
  } finally {
    await server.api.faults({ fault_latency_ms: 0 });
  }
  const aborted = failed.filter((f) => new URL(f.url).pathname === '/v1/devboxes/disk_snapshots');
  assert.equal(aborted.length, listed.length, `every list request of the left page was aborted: ${JSON.stringify(failed)}`);
  for (const f of aborted) assert.match(f.error ?? '', /ERR_ABORTED/);
  // Devboxes still works, and the top bar does not say the API is unreachable.
  await page.locator('[data-testid="devbox-row"]').first().waitFor();
  assert.equal(await page.getByText(/unreachable/i).count(), 0);
  assert.deepEqual(errors, []);
  await context.close();
});
