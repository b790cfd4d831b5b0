// The lineage graph (issue #17): the demo seed's known chains, grouped fan-out
// siblings, the focused node marked, clicking a node opens its page, the keyboard
// moves along edges, the filter sits in the URL, and only what is in view is drawn.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openApp, screenshot, startServer } from './harness.mjs';

let server;
let browser;
let ids;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const devboxes = await server.api.devboxes();
  const byName = (n) => devboxes.find((d) => d.name === n);
  ids = {
    flaky: byName('agent-fix-flaky-tests').id,
    tryA: byName('agent-fix-flaky-tests-try-a').id,
    tryB: byName('agent-fix-flaky-tests-try-b').id,
    ci: byName('ci-warm-cache').id,
    replica: byName('ci-warm-cache-replica').id,
  };
  ids.knownGood = byName('agent-fix-flaky-tests-try-a').snapshot_id;
  ids.nightly5 = byName('ci-warm-cache-replica').snapshot_id;
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const node = (page, id) => page.locator(`[data-testid="lineage-node"][data-id="${id}"]`);

test('the whole graph shows the fan-out siblings grouped and the replica from the latest nightly', async () => {
  const { context, page, errors } = await openApp(browser, server.url, '/lineage');
  await page.getByRole('link', { name: 'Lineage', exact: true }).waitFor();
  await page.locator('[data-testid="lineage-node"]').first().waitFor();
  await page.getByTestId('lineage-fit').click();
  // Both attempts hang from known-good, in one group, next to each other.
  const a = node(page, ids.tryA);
  const b = node(page, ids.tryB);
  await a.waitFor();
  assert.equal(await a.getAttribute('data-group'), `from:${ids.knownGood}`);
  assert.equal(await b.getAttribute('data-group'), `from:${ids.knownGood}`);
  await page.locator(`[data-testid="lineage-group"][data-group="from:${ids.knownGood}"]`).waitFor();
  const ya = (await a.boundingBox()).y;
  const yb = (await b.boundingBox()).y;
  const xa = (await a.boundingBox()).x;
  assert.ok(Math.abs(xa - (await b.boundingBox()).x) < 1, 'siblings share a layer');
  // Nothing else sits between them in their layer.
  const between = await page.locator('[data-testid="lineage-node"]').evaluateAll((els, [x, y0, y1]) => els.filter((e) => {
    const r = e.getBoundingClientRect();
    return Math.abs(r.x - x) < 1 && r.y > y0 + 1 && r.y < y1 - 1;
  }).length, [xa, Math.min(ya, yb), Math.max(ya, yb)]);
  assert.equal(between, 0, 'the group is contiguous');
  // The replica is drawn right of nightly-5, its source, in the next layer.
  const replica = await node(page, ids.replica).boundingBox();
  const n5 = await node(page, ids.nightly5).boundingBox();
  assert.ok(replica.x > n5.x, 'the replica comes after its snapshot');
  assert.match(await node(page, ids.nightly5).locator('a').getAttribute('aria-label'), /snapshot nightly-5/);
  // The count shows every node the seed has; no node is focused without ?focus=.
  assert.match(await page.getByTestId('lineage-count').textContent(), /^\d+ nodes/);
  assert.equal(await page.locator('[data-focused="true"]').count(), 0);
  for (const [w, h] of [[1280, 800], [360, 740]]) {
    await page.setViewportSize({ width: w, height: h });
    await page.getByTestId('lineage-fit').click();
    await screenshot(page, `lineage-${w}-light`);
  }
  assert.deepEqual(errors, []);
  await context.close();
});

test('a devbox page scopes the graph on its family with "you are here", and a click opens a node', async () => {
  const { context, page, errors } = await openApp(browser, server.url, `/devboxes/${ids.ci}`);
  const section = page.getByTestId('lineage-section');
  const here = section.locator('[data-testid="lineage-node"][data-focused="true"]');
  await here.waitFor();
  assert.equal(await here.getAttribute('data-id'), ids.ci);
  await section.locator('.sd-lg__here').waitFor();
  // Only ci-warm-cache's family: its blueprint, nightlies and replica, not the flaky agent.
  assert.equal(await section.locator(`[data-id="${ids.flaky}"]`).count(), 0);
  assert.equal(await section.locator('svg').getAttribute('data-total'), '8', 'blueprint, devbox, 5 nightlies, replica');
  // Keyboard: focus the graph, → goes to the first nightly, Enter opens it.
  await section.locator('svg').focus();
  await page.keyboard.press('ArrowRight');
  const cursor = section.getByTestId('lineage-cursor');
  await page.waitForFunction(() => /snapshot nightly-1/.test(document.querySelector('[data-testid="lineage-cursor"]')?.textContent ?? ''));
  await page.keyboard.press('ArrowLeft');
  await page.waitForFunction(() => /devbox ci-warm-cache/.test(document.querySelector('[data-testid="lineage-cursor"]')?.textContent ?? ''));
  assert.match(await cursor.textContent(), /you are here/);
  // A click on the replica opens its page.
  const link = section.locator(`[data-id="${ids.replica}"]`);
  if (!(await link.count())) await section.getByTestId('lineage-fit').click();
  await link.click();
  await page.waitForURL(`**/devboxes/${ids.replica}`);
  await page.getByRole('heading', { name: 'ci-warm-cache-replica' }).waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test('the filter lives in the URL and the keyboard opens the node under the cursor', async () => {
  const q = `/lineage?focus=${ids.knownGood}&family=${ids.knownGood}`;
  const { context, page, errors } = await openApp(browser, server.url, q);
  const here = page.locator('[data-testid="lineage-node"][data-focused="true"]');
  await here.waitFor();
  assert.equal(await here.getAttribute('data-id'), ids.knownGood);
  assert.equal(await page.locator('#sd-lg-family').inputValue(), ids.knownGood);
  // → from known-good reaches a child; ↓/↑ walk its layer; Enter opens the page.
  await page.locator('svg.sd-lg__svg').focus();
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction(() => !/known-good/.test(document.querySelector('[data-testid="lineage-cursor"]')?.textContent ?? 'known-good'));
  const before = await page.locator('[data-selected="true"]').getAttribute('data-id');
  assert.notEqual(before, ids.knownGood);
  await page.keyboard.press('Enter');
  await page.waitForURL((u) => u.pathname.includes(before));
  // Back, then a time window: the URL carries it, and old nodes go.
  await page.goBack();
  await page.locator('#sd-lg-days').selectOption('1');
  await page.waitForURL(/days=1/);
  assert.match(page.url(), /family=/);
  await page.locator('#sd-lg-days').selectOption('0');
  await page.waitForURL((u) => !u.search.includes('days='));
  for (const colorScheme of ['light', 'dark']) {
    for (const [w, h] of [[1280, 800], [360, 740]]) {
      const s = await openApp(browser, server.url, q, { colorScheme, viewport: { width: w, height: h } });
      await s.page.locator('[data-focused="true"]').waitFor();
      await screenshot(s.page, `lineage-focus-${w}-${colorScheme}`);
      await s.context.close();
    }
  }
  assert.deepEqual(errors, []);
  await context.close();
});

test('only the nodes in view are in the DOM, and a long line of snapshots is folded', async () => {
  // 12 snapshots of a new devbox: a line that folds into one node.
  const d = (await server.api.post('/v1/devboxes', { name: 'lineage-long-line' })).json;
  for (let i = 0; i < 60; i++) {
    const cur = (await server.api.get(`/v1/devboxes/${d.id}`)).json;
    if (cur.status === 'running') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  for (let i = 0; i < 12; i++) {
    const r = await server.api.post(`/v1/devboxes/${d.id}/snapshot_disk_async`, { name: `line-${i}` });
    assert.equal(r.status, 200, r.text);
  }
  const { context, page, errors } = await openApp(browser, server.url, `/lineage?family=${d.id}`, { viewport: { width: 360, height: 740 } });
  const chain = page.locator('[data-testid="lineage-node"][data-kind="collapsed snapshots"]');
  await chain.waitFor();
  assert.match(await chain.getAttribute('aria-label'), /12 snapshots/);
  await chain.click();
  await node(page, (await server.api.snapshots(`&devbox_id=${d.id}`)).find((s) => s.name === 'line-0').id).waitFor();
  const total = Number(await page.locator('svg.sd-lg__svg').getAttribute('data-total'));
  assert.equal(total, 13);
  const drawn = await page.locator('[data-testid="lineage-node"]').count();
  assert.ok(drawn < total, `culled: ${drawn} of ${total} drawn at 360 px`);
  // Panning with the keyboard brings others in.
  await page.locator('svg.sd-lg__svg').focus();
  const last = node(page, (await server.api.snapshots(`&devbox_id=${d.id}`)).find((s) => s.name === 'line-11').id);
  assert.equal(await last.count(), 0, 'the end of the line is out of view');
  for (let i = 0; i < 40 && !(await last.count()); i++) await page.keyboard.press('Shift+ArrowRight');
  await last.waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});
