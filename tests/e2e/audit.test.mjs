// The audit trail: a cleanup run through the dashboard (a job on snapdeck-server) and a
// pin made in this browser both show on /audit — who, what, how it ended and why — and
// the page exports what it shows as CSV and JSON.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { launchBrowser, openApp, screenshot, startServer } from './harness.mjs';

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

/** Parses RFC 4180 CSV (quoted fields, doubled quotes, newlines inside quotes). */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field); rows.push(row); row = []; field = '';
    } else field += c;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}

test('a finished cleanup and a pin are on the audit page, and it exports them', async () => {
  const devboxes = await server.api.devboxes();
  const ci = devboxes.find((d) => d.name === 'ci-warm-cache');
  const { context, page, errors } = await openApp(browser, server.url, `/cleanup?devbox=${ci.id}&keep=3`);
  const summary = page.locator('[data-testid="cleanup-summary"]');
  await summary.filter({ hasText: 'Will delete 2 of 5 snapshots' }).waitFor();
  const planned = await page.locator('[data-testid="plan-delete-row"]').evaluateAll((els) => els.map((e) => e.dataset.id));
  await page.locator('[data-testid="cleanup-confirm"]').fill('2');
  await page.getByRole('button', { name: 'Delete 2 snapshots' }).click();
  await page.getByText(/^Finished:/).waitFor({ timeout: 20_000 });

  // A pin, made by this browser against the API directly.
  const kept = (await server.api.snapshots(`&devbox_id=${ci.id}`))
    .sort((a, b) => b.create_time_ms - a.create_time_ms)[0];
  await page.goto(`${server.url}/devboxes/${ci.id}`);
  const node = page.locator(`[data-testid="snapshot-node"][data-snapshot-id="${kept.id}"]`);
  await node.getByRole('button', { name: /^Pin / }).click();
  await page.getByText(/^Pinned “/).waitFor();

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' }).click();
  await page.waitForURL((u) => u.pathname === '/audit');
  const rows = page.locator('[data-testid="audit-row"]');
  for (const id of planned) {
    await page.locator(`[data-testid="audit-row"][data-target="${id}"][data-outcome="done"][data-actor="server"]`).waitFor();
  }
  await page.locator(`[data-testid="audit-row"][data-target="${kept.id}"][data-actor="this_browser"]`).waitFor();
  assert.match(await rows.first().innerText(), /pin|delete snapshot/);
  await screenshot(page, 'audit-light');

  // Filters land in the URL and narrow the rows.
  await page.locator('[data-testid="sd-audit-actor"]').selectOption('server');
  await page.waitForURL((u) => u.searchParams.get('actor') === 'server');
  await page.waitForFunction(
    () => [...document.querySelectorAll('[data-testid="audit-row"]')].every((r) => r.dataset.actor === 'server'),
  );
  assert.equal(await rows.count(), planned.length);

  // CSV: a header and one row per entry shown, with the policy and the outcome.
  const [csvDownload] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('[data-testid="audit-export-csv"]').click(),
  ]);
  assert.equal(csvDownload.suggestedFilename(), 'snapdeck-audit.csv');
  const csv = parseCsv(await readFile(await csvDownload.path(), 'utf8')).filter((r) => r.length > 1);
  const [header, ...body] = csv;
  assert.deepEqual(header.slice(0, 4), ['id', 'at_ms', 'at_utc', 'actor']);
  const col = (name) => header.indexOf(name);
  assert.deepEqual(body.map((r) => r[col('target_id')]).sort(), [...planned].sort());
  assert.ok(body.every((r) => r[col('outcome')] === 'done' && r[col('actor')] === 'server'));
  assert.ok(body.every((r) => /newest 3/.test(r[col('policy')])), JSON.stringify(body.map((r) => r[col('policy')])));

  // JSON: the same entries.
  const [jsonDownload] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('[data-testid="audit-export-json"]').click(),
  ]);
  const entries = JSON.parse(await readFile(await jsonDownload.path(), 'utf8'));
  assert.deepEqual(entries.map((e) => e.target_id).sort(), [...planned].sort());
  assert.deepEqual(errors, []);
  await context.close();
});
