// A delete the person started that ends while the tab is hidden raises a browser
// notification, once they allowed it in Settings; one that ends while they watch does
// not (the page itself says so). The browser's Notification and the page's visibility
// are stood in for in the page (headless Chromium shows no notifications and never
// hides a tab): what is checked is what snapdeck asks the browser to show, and when.

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
  await server?.api.faults({ fault_latency_ms: 0 });
  await browser?.close();
  await server?.stop();
});

/** Before the app starts: a recording Notification, and a visibility the test sets. */
function standIns() {
  window.__sdShown = [];
  window.__sdAsked = 0;
  class RecordingNotification {
    // What the person answered is kept across navigations, as a browser does.
    static get permission() {
      return localStorage.getItem('__sdGranted') ? 'granted' : 'default';
    }
    static requestPermission() {
      window.__sdAsked += 1;
      localStorage.setItem('__sdGranted', '1');
      return Promise.resolve('granted');
    }
    constructor(title, options = {}) {
      window.__sdShown.push({ title, body: options.body ?? '' });
    }
    close() {}
  }
  window.Notification = RecordingNotification;
  window.__sdHidden = false;
  Object.defineProperty(Document.prototype, 'visibilityState', {
    configurable: true,
    get: () => (window.__sdHidden ? 'hidden' : 'visible'),
  });
  Object.defineProperty(Document.prototype, 'hidden', {
    configurable: true,
    get: () => window.__sdHidden,
  });
}

/** Deletes one complete snapshot of ci-warm-cache from the Snapshots page; `hide`
 * hides the tab right after the click, while the (slowed) job runs. */
async function deleteOne(page, hide) {
  const ci = (await server.api.devboxes()).find((d) => d.name === 'ci-warm-cache');
  const list = (await server.api.snapshots(`&devbox_id=${ci.id}`))
    .sort((a, b) => b.create_time_ms - a.create_time_ms);
  const target = list[list.length - 1].id;
  await page.goto(`${new URL(page.url()).origin}/snapshots?devbox=${ci.id}`);
  const row = page.locator(`[data-testid="snapshot-row"][data-id="${target}"][data-status="complete"]`);
  await row.waitFor();
  await row.locator('input[type="checkbox"]').click();
  await page.getByRole('button', { name: 'Delete selected…' }).click();
  await page.waitForFunction(() => !document.querySelector('[role="dialog"] button[type="submit"]')?.disabled);
  await server.api.faults({ fault_latency_ms: 800 });
  await page.getByRole('dialog').getByRole('button', { name: 'Delete 1 snapshot' }).click();
  if (hide) {
    await page.evaluate(() => {
      window.__sdHidden = true;
      document.dispatchEvent(new Event('visibilitychange'));
    });
  }
  await page.getByText(/^Finished:/).first().waitFor({ timeout: 30_000 });
  await server.api.faults({ fault_latency_ms: 0 });
  return target;
}

test('a delete that finishes while the tab is hidden raises a notification, once allowed', async () => {
  const { context, page, errors } = await openApp(browser, server.url, '/settings');
  await context.addInitScript(standIns);
  await page.reload();
  // Not allowed yet: a hidden finish shows nothing.
  await page.locator('[data-testid="settings-notify"]').waitFor();
  await deleteOne(page, true);
  assert.deepEqual(await page.evaluate(() => window.__sdShown), [], 'off by default');

  // Allowed in Settings (the browser asks the person once).
  await page.goto(`${server.url}/settings`);
  await page.locator('[data-testid="settings-notify"]').check();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForFunction(() => window.__sdAsked === 1);

  // Watching it: no notification.
  await deleteOne(page, false);
  assert.deepEqual(await page.evaluate(() => window.__sdShown), [], 'not while the tab is visible');

  // Hidden: one notification with the outcome.
  await deleteOne(page, true);
  const shown = await page.evaluate(() => window.__sdShown);
  assert.equal(shown.length, 1, JSON.stringify(shown));
  assert.match(shown[0].title, /^Finished: /);
  assert.equal(shown[0].body, '1 deleted · 0 failed · 0 skipped');
  assert.deepEqual(errors, []);
  await context.close();
});
