// Accessibility: axe-core (Deque's engine) on every page and the main dialogs, light
// and dark, against the demo seed. A serious or critical violation (WCAG 2.x A/AA
// rules: contrast, names, roles, labels) fails the run, with the rule and the nodes.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { launchBrowser, openApp, startServer } from './harness.mjs';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

let server;
let browser;
let ids;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const devboxes = await server.api.devboxes();
  const devbox = devboxes.find((d) => d.name === 'ci-warm-cache') ?? devboxes[0];
  const snapshots = await server.api.snapshots('');
  const bps = (await server.api.get('/v1/blueprints')).json.blueprints;
  ids = { devbox: devbox.id, snapshot: snapshots[0].id, blueprint: bps[0].id };
  // A fan-out batch: two children of one complete snapshot, tagged as the app tags them.
  let complete;
  for (const s of snapshots) {
    const st = await server.api.get(`/v1/devboxes/disk_snapshots/${s.id}/status`);
    if (st.json?.status === 'complete') { complete = s; break; }
  }
  for (const label of ['a', 'b']) {
    const r = await server.api.post('/v1/devboxes', {
      name: `a11y-try-${label}`,
      snapshot_id: complete.id,
      metadata: { 'snapdeck.fanout': 'fo_a11y', 'snapdeck.attempt': label, 'snapdeck.fanout.source': complete.id },
    });
    assert.equal(r.status, 200, r.text);
  }
  ids.complete = complete.id;
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Runs axe on the page as it is; returns the serious and critical violations. */
async function audit(page) {
  // Evaluated over the DevTools protocol: the app's CSP (no inline scripts) stays on.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      resultTypes: ['violations'],
    });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => `${n.target.join(' ')} — ${n.failureSummary.split('\n').slice(1).join(' ').trim()}`),
    }));
  });
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

function report(violations) {
  return violations
    .map((v) => `${v.id} (${v.impact}): ${v.help}\n  ${v.nodes.slice(0, 6).join('\n  ')}${v.nodes.length > 6 ? `\n  … ${v.nodes.length - 6} more` : ''}`)
    .join('\n');
}

/** Each page, and what shows it is loaded (its data, not a skeleton). */
function pages() {
  return [
    ['/devboxes', '[data-testid="devbox-row"]'],
    [`/devboxes/${ids.devbox}`, '[data-testid="snapshot-node"]'],
    ['/snapshots', '[data-testid="snapshot-row"]'],
    [`/snapshots/${ids.snapshot}`, '.sd-snap__head'],
    ['/blueprints', '[data-testid="blueprint-row"] td.sd-num:last-child .sd-mono'],
    [`/blueprints/${ids.blueprint}`, '[data-testid="family-devboxes"]'],
    ['/cleanup', '[data-testid="cleanup-summary"]'],
    ['/fanouts', '[data-testid="fanout-list"]'],
    ['/fanouts/fo_a11y', '[data-testid="fanout-tile"]'],
    ['/audit', 'h1'],
    ['/settings', 'h1'],
    // Lineage (issue #17): the whole graph, and one scoped on a devbox.
    ['/lineage', '[data-testid="lineage-node"]'],
    [`/lineage?focus=${ids.devbox}&family=${ids.devbox}`, '[data-testid="lineage-node"][data-focused="true"]'],
    // Storage charts: the devbox's (above, with its timeline) and Cleanup's overlay.
    [`/devboxes/${ids.devbox}`, '[data-testid="storage-bar"]'],
    [`/cleanup?devbox=${ids.devbox}&keep=1`, '[data-testid="storage-frees"]'],
    // Snapshots with the storage breakdown open (every row shown), and a Cleanup scoped
    // to a blueprint, as its links open one.
    ['/snapshots', '[data-testid="snapshot-row"]', async (page) => {
      await page.getByTestId('storage-breakdown').locator('summary').click();
      await page.locator('[data-testid="breakdown-row"]').first().waitFor();
      for (const more of await page.getByRole('button', { name: /^Show all/ }).all()) await more.click();
    }],
    [`/cleanup?blueprint=${ids.blueprint}`, '[data-testid="cleanup-scope-blueprint"]'],
    // Devboxes with a selection: the checkboxes and the bar over them.
    ['/devboxes', '[data-testid="devbox-row"]', async (page) => {
      await page.locator('[data-testid="devbox-row"] input[type=checkbox]').first().check();
      await page.getByTestId('devbox-selection-bar').waitFor();
    }],
  ];
}

for (const colorScheme of ['light', 'dark']) {
  test(`every page has no serious or critical axe violation (${colorScheme})`, async () => {
    const failures = [];
    for (const [path, ready, then] of pages()) {
      const { context, page, errors } = await openApp(browser, server.url, path, { colorScheme });
      await page.locator(ready).first().waitFor();
      if (then) await then(page);
      // Let loads and transitions settle (skeletons swapped, badges coloured).
      await page.waitForLoadState('networkidle');
      await page.waitForTimeout(300);
      const found = await audit(page);
      if (found.length) failures.push(`${path}:\n${report(found)}`);
      assert.deepEqual(errors, [], `${path}: no page errors`);
      await context.close();
    }
    assert.equal(failures.length, 0, `axe found serious/critical violations:\n${failures.join('\n\n')}`);
  });

  test(`the dialogs have no serious or critical axe violation (${colorScheme})`, async () => {
    const { context, page, errors } = await openApp(browser, server.url, '/devboxes', { colorScheme });
    await page.locator('[data-testid="devbox-row"]').first().waitFor();
    const failures = [];
    await page.keyboard.press('n');
    const nd = page.getByRole('dialog', { name: 'New devbox' });
    await nd.waitFor();
    await page.waitForTimeout(300);
    let found = await audit(page);
    if (found.length) failures.push(`New devbox:\n${report(found)}`);
    await page.keyboard.press('Escape');
    await nd.waitFor({ state: 'detached' });

    // Snapshot selected: the confirmation listing each devbox (nothing is confirmed).
    await page.locator('[data-testid="devbox-row"][data-status="running"] input[type=checkbox]').first().check();
    await page.getByRole('button', { name: 'Snapshot selected…' }).click();
    const bulk = page.getByRole('dialog', { name: /^Snapshot \d+ devbox/ });
    await bulk.waitFor();
    await page.waitForTimeout(300);
    found = await audit(page);
    if (found.length) failures.push(`Snapshot selected:\n${report(found)}`);
    await page.keyboard.press('Escape');
    await bulk.waitFor({ state: 'detached' });

    await page.goto(`${server.url}/devboxes/${ids.devbox}`);
    await page.getByRole('button', { name: 'Snapshot', exact: true }).click();
    await page.getByRole('dialog', { name: 'Take snapshot' }).waitFor();
    await page.waitForTimeout(300);
    found = await audit(page);
    if (found.length) failures.push(`Take snapshot:\n${report(found)}`);
    await page.keyboard.press('Escape');

    await page.goto(`${server.url}/snapshots/${ids.complete}`);
    await page.getByRole('button', { name: 'Fan out', exact: true }).click();
    await page.getByRole('dialog', { name: /^Fan out from/ }).waitFor();
    await page.waitForTimeout(300);
    found = await audit(page);
    if (found.length) failures.push(`Fan out:\n${report(found)}`);
    await page.keyboard.press('Escape');

    // A confirmation with a danger button (the blueprint delete; nothing is confirmed).
    await page.goto(`${server.url}/blueprints/${ids.blueprint}`);
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete blueprint' }).waitFor();
    await page.waitForTimeout(300);
    found = await audit(page);
    if (found.length) failures.push(`Delete blueprint:\n${report(found)}`);
    assert.deepEqual(errors, []);
    await context.close();
    assert.equal(failures.length, 0, `axe found serious/critical violations:\n${failures.join('\n\n')}`);
  });
}

// ---- the command palette, open with results (and the `?` help it shares a table with) ----
for (const colorScheme of ['light', 'dark']) {
  test(`the open command palette has no serious or critical axe violation (${colorScheme})`, async () => {
    const { context, page, errors } = await openApp(browser, server.url, '/devboxes', { colorScheme });
    await page.locator('[data-testid="devbox-row"]').first().waitFor();
    const failures = [];
    await page.keyboard.press('Control+k');
    await page.getByRole('combobox').waitFor();
    await page.keyboard.type('ci');
    await page.locator('[role=option][data-kind=snapshot]').first().waitFor();
    await page.keyboard.press('ArrowDown');
    await page.waitForTimeout(300);
    let found = await audit(page);
    if (found.length) failures.push(`Command palette:\n${report(found)}`);
    await page.keyboard.press('Escape');
    await page.keyboard.press('?');
    await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
    await page.waitForTimeout(300);
    found = await audit(page);
    if (found.length) failures.push(`Keyboard shortcuts:\n${report(found)}`);
    assert.deepEqual(errors, []);
    await context.close();
    assert.equal(failures.length, 0, `axe found serious/critical violations:\n${failures.join('\n\n')}`);
  });
}
