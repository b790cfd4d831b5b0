// Embedding: the demo portal (demo/portal.html, served from dist/demo/) mounts two
// snapdeck views — the devbox list and one devbox's timeline — through the stable
// loader /snapdeck-embed.js. Checks that both views work without taking over the
// portal's URL, that a snapshot taken in the embedded timeline reaches the portal as
// `snapdeck:snapshot-complete`, that the token arrives by JS property or event and is
// never written to the DOM or storage, and that the portal's own styles are exactly
// the same before and after snapdeck mounts. Screenshots of the portal, light and dark.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { KEY, SCREENSHOTS, launchBrowser, openApp, screenshot, startServer } from './harness.mjs';

let server;
let browser;
let devbox;

before(async () => {
  // --api-key: a wrong token must really be refused (the set-token test).
  server = await startServer(['--api-key', KEY, '--snapshot-duration-ms', '1200']);
  browser = await launchBrowser();
  const all = await server.api.devboxes();
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

/** Opens the portal in a fresh context (no stored key: the portal passes its own). */
async function openPortal({ colorScheme = 'light', token = KEY, theme, blockApp = false } = {}) {
  const context = await browser.newContext({ colorScheme, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  if (blockApp) await page.route('**/snapdeck-embed.js', (r) => r.abort());
  const q = new URLSearchParams({ devbox: devbox.id, token });
  if (theme) q.set('theme', theme);
  await page.goto(`${server.url}/demo/portal.html?${q}`);
  return { context, page, errors };
}

const listRows = (page) => page.locator('#embed-devboxes [data-testid="devbox-row"]');
const timelineNodes = (page) => page.locator('#embed-timeline [data-testid="snapshot-node"]');

async function mounted(page) {
  await listRows(page).first().waitFor();
  await timelineNodes(page).first().waitFor();
  await page.waitForFunction(() => {
    const text = document.querySelector('#embed-cleanup [data-testid="cleanup-summary"]')?.textContent ?? '';
    return /Will delete/.test(text) && !/checking/.test(text);
  });
  await page.waitForFunction(
    () => [...document.querySelectorAll('#embed-timeline [data-testid="snapshot-node"]')]
      .every((n) => n.dataset.status !== 'unknown'),
  );
}

/** Every computed property of the portal's own elements, minus layout sizes (the
 * embeds make the page taller, which may add a scrollbar and change widths). */
function portalStyles(page) {
  return page.evaluate(() => {
    const skip = new Set(['width', 'height', 'inline-size', 'block-size',
      'perspective-origin', 'transform-origin']);
    const pick = (sel) => {
      const el = document.querySelector(sel);
      const cs = getComputedStyle(el);
      const out = {};
      for (const prop of cs) if (!skip.has(prop)) out[prop] = cs.getPropertyValue(prop);
      return out;
    };
    const sels = ['html', 'body', '#portal-header', '.portal-nav a', '#portal-theme',
      '#portal-rotate', 'main.portal-main h1', '.portal-card h2', '.portal-lede',
      '#portal-events', '#portal-events th', '#portal-events td'];
    return Object.fromEntries(sels.map((s) => [s, pick(s)]));
  });
}

test('the portal keeps its own styles: equal computed styles before and after snapdeck mounts', async () => {
  const bare = await openPortal({ blockApp: true });
  await bare.page.locator('#portal-events td').first().waitFor();
  const before = await portalStyles(bare.page);
  await bare.context.close();

  const { context, page, errors } = await openPortal();
  await mounted(page);
  const after = await portalStyles(page);
  for (const sel of Object.keys(before)) {
    assert.deepEqual(after[sel], before[sel], `computed style of ${sel} changed`);
  }

  // And every rule snapdeck brought is scoped: an .sd- class, or the host's own
  // [data-snapdeck] element (custom properties only, zero specificity).
  const loose = await page.evaluate(() => {
    const bad = [];
    const walk = (rules) => {
      for (const r of rules) {
        if (r.cssRules && !r.selectorText) walk(r.cssRules);
        if (!r.selectorText) continue;
        // Split on top-level commas only (not inside :is(…)).
        const parts = [];
        let depth = 0;
        let cur = '';
        for (const ch of r.selectorText) {
          if (ch === ',' && depth === 0) { parts.push(cur); cur = ''; continue; }
          if (ch === '(') depth += 1;
          if (ch === ')') depth -= 1;
          cur += ch;
        }
        parts.push(cur);
        for (const s of parts) {
          if (!/\.sd-|\[data-snapdeck\]/.test(s)) bad.push(s.trim());
        }
      }
    };
    for (const sheet of document.styleSheets) {
      if (sheet.ownerNode?.dataset?.snapdeckAsset !== undefined) walk(sheet.cssRules);
    }
    return bad;
  });
  assert.deepEqual(loose, []);
  assert.deepEqual(errors, []);
  await context.close();
});

test('two embedded views work side by side without the app chrome or the portal URL', async () => {
  const { context, page, errors } = await openPortal();
  await mounted(page);
  const devboxes = await server.api.devboxes();
  assert.equal(await listRows(page).count(), Math.min(devboxes.length, 50));
  const snaps = await server.api.snapshots(`&devbox_id=${devbox.id}`);
  assert.equal(await timelineNodes(page).count(), snaps.length);
  assert.equal(await page.locator('.sd-topbar, .sd-tray').count(), 0);
  assert.match(await page.locator('#embed-timeline h1').textContent(), new RegExp(devbox.name));

  // The host themes the embeds through --sd-* on the element.
  const accent = await page.evaluate(() => getComputedStyle(
    document.querySelector('#embed-devboxes .sd-embed')).getPropertyValue('--sd-accent').trim());
  assert.equal(accent, '#b4441b');

  // Filters change the embed's own location, never the portal's.
  const portalUrl = page.url();
  await page.locator('#embed-devboxes .sd-chips a', { hasText: 'running' }).first().click();
  await page.waitForFunction(() => [...document.querySelectorAll('#embed-devboxes [data-testid="devbox-row"]')]
    .every((r) => r.dataset.status === 'running'));
  assert.equal(page.url(), portalUrl);
  // A row opens that devbox's timeline inside the embed (no data-dashboard-url).
  await listRows(page).first().click();
  await page.locator('#embed-devboxes [data-testid="snapshot-node"], #embed-devboxes .sd-empty').first().waitFor();
  assert.equal(page.url(), portalUrl);
  await page.locator('#embed-devboxes a.sd-back').click();
  await listRows(page).first().waitFor();
  assert.equal(page.url(), portalUrl);

  // The timeline has data-dashboard-url: a link to another page opens the dashboard.
  const [tab] = await Promise.all([
    context.waitForEvent('page'),
    page.locator('#embed-timeline').getByText("Clean up this devbox's snapshots…").click(),
  ]);
  await tab.waitForLoadState();
  const opened = new URL(tab.url());
  assert.equal(`${opened.origin}${opened.pathname}`, `${server.url}/cleanup`);
  assert.equal(opened.searchParams.get('devbox'), devbox.id);
  assert.equal(page.url(), portalUrl);
  assert.ok(await page.locator('#embed-timeline [data-testid="snapshot-node"]').first().isVisible());
  assert.deepEqual(errors, []);
  await context.close();
});

test('a snapshot taken in the embedded timeline reaches the portal as snapdeck:snapshot-complete', async () => {
  const { context, page, errors } = await openPortal();
  await mounted(page);
  await page.evaluate(() => {
    window.seen = [];
    document.addEventListener('snapdeck:snapshot-complete', (e) => {
      window.seen.push({ target: e.target.id, detail: e.detail, composed: e.composed, bubbles: e.bubbles });
    });
  });
  const embed = page.locator('#embed-timeline');
  await embed.getByRole('button', { name: 'Snapshot', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Take snapshot' });
  await dialog.getByLabel('Name').fill('portal-e2e');
  await page.screenshot({ path: `${SCREENSHOTS}/embed-portal-dialog-light.png` });
  await dialog.getByLabel('Name').press('Enter');
  await dialog.waitFor({ state: 'detached' });
  await page.waitForFunction(() => window.seen.length > 0, null, { timeout: 20_000 });

  const [ev] = await page.evaluate(() => window.seen);
  const made = (await server.api.snapshots(`&devbox_id=${devbox.id}`)).find((s) => s.name === 'portal-e2e');
  assert.ok(made, 'the snapshot exists');
  assert.deepEqual(ev, {
    target: 'embed-timeline',
    detail: { snapshotId: made.id, devboxId: devbox.id },
    composed: true,
    bubbles: true,
  });
  // The portal's own log got it too, and the timeline shows it complete.
  await page.locator('#portal-events tr[data-event="snapdeck:snapshot-complete"]').waitFor();
  await page.waitForFunction(
    (id) => document.querySelector(`#embed-timeline [data-snapshot-id="${id}"]`)?.dataset.status === 'complete',
    made.id,
  );
  await screenshot(page, 'embed-portal-snapshot-light');
  assert.deepEqual(errors, []);
  await context.close();
});

/** Collects snapdeck's events at the document, as a host would. */
function listen(page, name) {
  return page.evaluate((n) => {
    window.seen = [];
    document.addEventListener(n, (e) => window.seen.push({ target: e.target.id, detail: e.detail }));
  }, name);
}

test('a restore started in the embedded timeline reaches the portal as snapdeck:devbox-restored', async () => {
  const { context, page, errors } = await openPortal();
  await mounted(page);
  await listen(page, 'snapdeck:devbox-restored');
  const snap = (await server.api.snapshots(`&devbox_id=${devbox.id}`)).find((s) => s.name === 'portal-e2e');
  const node = page.locator(`#embed-timeline [data-snapshot-id="${snap.id}"]`);
  await node.getByRole('button', { name: 'Restore', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Restore “portal-e2e”' });
  await dialog.getByRole('button', { name: 'Restore', exact: true }).click();
  await page.waitForFunction(() => window.seen.length > 0, null, { timeout: 20_000 });

  const [ev] = await page.evaluate(() => window.seen);
  const made = (await server.api.devboxes()).find((d) => d.name === 'restored-portal-e2e');
  assert.equal(made.status, 'running');
  assert.deepEqual(ev, {
    target: 'embed-timeline',
    detail: { devboxId: made.id, snapshotId: snap.id, sourceDevboxId: devbox.id },
  });
  assert.deepEqual(errors, []);
  await context.close();
});

test('a cleanup run in the embedded cleanup view reaches the portal as snapdeck:cleanup-finished', async () => {
  const { context, page, errors } = await openPortal();
  await mounted(page);
  const embed = page.locator('#embed-cleanup');
  await embed.locator('[data-testid="cleanup-summary"]').filter({ hasText: 'Will delete' }).waitFor();
  await listen(page, 'snapdeck:cleanup-finished');
  await embed.locator('[data-testid="cleanup-keep"]').fill('1');
  await page.waitForFunction(() => {
    const rows = document.querySelectorAll('#embed-cleanup [data-testid="plan-keep-row"]');
    const text = document.querySelector('#embed-cleanup [data-testid="cleanup-summary"]').textContent;
    return /Will delete [1-9]/.test(text) && !/checking/.test(text) && rows.length >= 1;
  });
  assert.equal(page.url().includes('keep='), false, 'the policy stays in the embed');
  const planned = await embed.locator('[data-testid="plan-delete-row"]')
    .evaluateAll((els) => els.map((e) => e.dataset.id));
  await embed.locator('[data-testid="cleanup-confirm"]').fill(String(planned.length));
  const n = planned.length;
  await embed.getByRole('button', { name: `Delete ${n} snapshot${n === 1 ? '' : 's'}` }).click();
  await page.waitForFunction(() => window.seen.length > 0, null, { timeout: 30_000 });

  const [ev] = await page.evaluate(() => window.seen);
  assert.equal(ev.target, 'embed-cleanup');
  const left = new Set((await server.api.snapshots(`&devbox_id=${devbox.id}`)).map((s) => s.id));
  const deleted = planned.filter((id) => !left.has(id));
  assert.deepEqual(
    [...ev.detail.deleted].sort(),
    [...deleted].sort(),
    'deleted lists exactly the snapshots that are gone',
  );
  assert.deepEqual(
    [...ev.detail.deleted, ...ev.detail.failed, ...ev.detail.skipped].sort(),
    [...planned].sort(),
  );
  await screenshot(page, 'embed-portal-cleanup-light');
  assert.deepEqual(errors, []);
  await context.close();
});

test('the token comes by JS property or event and is never written to the DOM or storage', async () => {
  const { context, page, errors } = await openPortal({ token: 'wrong-token' });
  // Refused: the list says so.
  await page.locator('#embed-devboxes [role="alert"], #embed-devboxes .sd-error').first().waitFor();
  assert.equal(await listRows(page).count(), 0);
  await page.evaluate((token) => {
    document.getElementById('embed-devboxes')
      .dispatchEvent(new CustomEvent('snapdeck:set-token', { detail: { token } }));
  }, KEY);
  await listRows(page).first().waitFor();

  const leaks = await page.evaluate((key) => {
    const stored = [localStorage, sessionStorage].flatMap((s) =>
      Object.keys(s).map((k) => `${k}=${s.getItem(k)}`));
    return {
      dom: document.documentElement.outerHTML.includes(key),
      storage: stored.filter((kv) => kv.includes(key) || kv.includes('wrong-token')),
    };
  }, KEY);
  assert.deepEqual(leaks, { dom: false, storage: [] });
  assert.deepEqual(errors, []);
  await context.close();
});

test('the full dashboard dispatches the same events on its .sd-root', async () => {
  const { context, page, errors } = await openApp(browser, server.url, `/devboxes/${devbox.id}`);
  await page.locator('[data-testid="snapshot-node"]').first().waitFor();
  await page.evaluate(() => {
    window.seen = [];
    document.addEventListener('snapdeck:snapshot-complete', (e) => {
      window.seen.push({ root: e.target.classList.contains('sd-root'), detail: e.detail });
    });
  });
  await page.getByRole('button', { name: 'Snapshot', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Take snapshot' });
  await dialog.getByLabel('Name').fill('dashboard-e2e');
  await dialog.getByLabel('Name').press('Enter');
  await page.waitForFunction(() => window.seen.length > 0, null, { timeout: 20_000 });
  const made = (await server.api.snapshots(`&devbox_id=${devbox.id}`)).find((s) => s.name === 'dashboard-e2e');
  assert.deepEqual(await page.evaluate(() => window.seen), [
    { root: true, detail: { snapshotId: made.id, devboxId: devbox.id } },
  ]);
  assert.deepEqual(errors, []);
  await context.close();
});

test('screenshots: the portal with its embeds, light and dark', async () => {
  for (const [colorScheme, theme] of [['light', 'light'], ['dark', 'dark']]) {
    const { context, page } = await openPortal({ colorScheme, theme });
    await mounted(page);
    await screenshot(page, `embed-portal-${colorScheme}`);
    await context.close();
  }
});
