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
  // The Snapshots page's list requests (made while it is open), and which failed how.
  const listed = new Set();
  let onSnapshots = false;
  // Only the page's own list (not the Devboxes page's per-row counts, which ask for
  // `include_total_count` and may still be on their way when the person clicks away).
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (
      onSnapshots &&
      url.pathname === '/v1/devboxes/disk_snapshots' &&
      !url.searchParams.has('include_total_count')
    ) {
      listed.add(r);
    }
  });
  const failed = new Map();
  page.on('requestfailed', (r) => failed.set(r, r.failure()?.errorText));

  await server.api.faults({ fault_latency_ms: 2500 });
  try {
    onSnapshots = true;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Snapshots' }).click();
    await page.waitForURL((u) => u.pathname === '/snapshots');
    await page.waitForFunction(() => document.querySelector('.sd-page') !== null);
    // The list request went out; leave before it can answer.
    await page.waitForTimeout(300);
    assert.ok(listed.size >= 1, 'the Snapshots page asked for its list');
    onSnapshots = false;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Devboxes' }).click();
    await page.waitForURL((u) => u.pathname === '/devboxes');
    // Chromium reports the cancelled fetch at once.
    const deadline = Date.now() + 2000;
    while (Date.now() < deadline && ![...listed].every((r) => failed.has(r))) {
      await page.waitForTimeout(50);
    }
  } finally {
    await server.api.faults({ fault_latency_ms: 0 });
  }
  const outcome = [...listed].map((r) => failed.get(r) ?? 'finished');
  assert.deepEqual(
    outcome,
    outcome.map(() => 'net::ERR_ABORTED'),
    'every list request of the page left behind was aborted',
  );
  // Devboxes still works, and the top bar does not say the API is unreachable.
  await page.locator('[data-testid="devbox-row"]').first().waitFor();
  assert.equal(await page.getByText(/unreachable/i).count(), 0);
  assert.deepEqual(errors, []);
  await context.close();
});
