// Workflow: fan out. Snapshot a devbox → fan out 3 children from it with a TASK.md per
// child (one at a time, so a reload lands mid-launch and must resume it; the first
// child's boot fails by an emulator fault and is retried alone) → every child running
// with its task written → each child writes a different result.json through the API,
// as an agent would → the compare table marks the differing keys → a check command
// runs in each → choose b: b is snapshotted and pinned, a and c shut down → the source
// devbox's timeline shows the children as siblings under the snapshot.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openApp, screenshot, startServer } from './harness.mjs';

let server;
let browser;

before(async () => {
  // Boots long enough that a reload lands mid-launch.
  server = await startServer(['--boot-duration-ms', '2500']);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});


const BATCH = 'snapdeck.fanout';
const ATTEMPT = 'snapdeck.attempt';

async function children(batch) {
  return (await server.api.devboxes()).filter((d) => d.metadata?.[BATCH] === batch);
}

test('fan out 3 from a snapshot, compare their results, continue with the best', async () => {
  const source = (await server.api.devboxes()).find((d) => d.status === 'running' && d.name);
  const { page, errors } = await openApp(browser, server.url, `/devboxes/${source.id}`);

  // Snapshot now, then fan out: one action on the devbox's page.
  await page.getByRole('button', { name: 'Fan out…', exact: true }).click();
  const take = page.getByRole('dialog', { name: 'Snapshot now, then fan out' });
  await take.getByLabel('Name').fill('fan-base');
  // The first child to boot fails (health check), by the emulator's fault knob.
  await server.api.faults({ fail_next_boots: 1 });
  await take.getByRole('button', { name: 'Take snapshot, then fan out' }).click();
  await page.getByTestId('fanout-waiting').waitFor();
  const dialog = page.getByRole('dialog', { name: 'Fan out from “fan-base”' });
  await dialog.waitFor({ timeout: 20_000 });
  const base = (await server.api.snapshots(`&devbox_id=${source.id}`)).filter((s) => s.name === 'fan-base');
  assert.equal(base.length, 1, 'one snapshot taken');
  const snapshotId = base[0].id;
  await dialog.getByLabel('Children').fill('3');
  await dialog.getByLabel('At once').fill('1');
  await dialog.getByLabel(/^Its text/).fill('Attempt {label}: make the flaky test pass.');
  await dialog.getByLabel('Each child, when idle').selectOption('suspend');
  await dialog.getByLabel('Idle minutes').fill('45');
  await dialog.getByTestId('fanout-preview').getByText('Starts 3 devboxes from this snapshot, 1 at a time: fan-base-try-a, fan-base-try-b, fan-base-try-c; each suspends after 45 min idle.').waitFor();
  await dialog.getByRole('button', { name: 'Fan out', exact: true }).click();
  await page.waitForURL(/\/fanouts\/fo_[a-z0-9]+$/);
  const batch = decodeURIComponent(new URL(page.url()).pathname.split('/').pop());
  // With snapdeck-server there, the launch is the server's job, not the tab's.
  const jobs = await server.api.get('/_snapdeck/jobs');
  assert.equal(jobs.status, 200, jobs.text);
  const job = JSON.parse(jobs.text).jobs.find((j) => j.batch_id === batch);
  assert.ok(job, `a fan-out job for ${batch}`);
  assert.equal(job.kind, 'fanout');

  // A reload while the launch is under way: the page resumes it, nothing twice.
  await page.getByTestId('fanout-tile').first().waitFor({ timeout: 10_000 });
  const before = await children(batch);
  assert.ok(before.length < 3, `the reload must land mid-launch (had ${before.length})`);
  await page.reload();
  const grid = page.getByTestId('fanout-grid');
  const tile = (label) => grid.locator(`[data-testid="fanout-tile"][data-label="${label}"]`);

  // a failed to boot: its reason shows, and it is retried alone.
  await tile('a').and(page.locator('[data-phase="failed"]')).waitFor({ timeout: 20_000 });
  await tile('a').getByTestId('tile-reason').getByText('Failed to boot: health check failed').waitFor();
  await screenshot(page, 'fanout-grid-failed-light-1280');
  await tile('a').getByRole('button', { name: 'Retry a' }).click();
  // On a timeout, say what the grid and the API showed (a rare CI failure here).
  const explained = async (what, wait) => {
    try {
      await wait;
    } catch (e) {
      const shown = await grid.innerText().catch(() => '(no grid)');
      const api = (await children(batch))
        .map((d) => `${d.metadata[ATTEMPT]}:${d.id}:${d.status}`).join(' ');
      e.message += `\n${what}\ngrid: ${shown.replace(/\s+/g, ' ')}\napi: ${api}\npage errors: ${errors.join(' | ')}`;
      throw e;
    }
  };
  for (const l of ['a', 'b', 'c']) {
    await explained(`${l} running`, tile(l).and(page.locator('[data-phase="running"]')).waitFor({ timeout: 30_000 }));
    await explained(`${l} task written`, tile(l).getByTestId('task-written').waitFor({ timeout: 10_000 }));
  }
  await page.getByTestId('fanout-state').getByText('3 of 3 running').waitFor();
  await tile('a').getByText('retried 1×').waitFor();
  const kids = await children(batch);
  assert.equal(kids.length, 4, 'three children and the one failed boot; none created twice');
  const byLabel = Object.fromEntries(
    kids.filter((d) => d.status === 'running').map((d) => [d.metadata[ATTEMPT], d]),
  );
  assert.deepEqual(Object.keys(byLabel).sort(), ['a', 'b', 'c']);
  for (const [l, d] of Object.entries(byLabel)) {
    assert.equal(d.snapshot_id, snapshotId);
    assert.deepEqual(d.launch_parameters.after_idle, { idle_time_seconds: 2700, on_idle: 'suspend' });
    const task = await server.api.post(`/v1/devboxes/${d.id}/read_file_contents`, { file_path: 'TASK.md' });
    assert.equal(task.status, 200, task.text);
    assert.equal(task.text, `Attempt ${l}: make the flaky test pass.`);
  }

  // Each attempt writes its own result, as an agent would.
  const results = {
    a: { score: 61, tests: 'pass', approach: 'retry' },
    b: { score: 94, tests: 'pass', approach: 'backoff' },
    c: { score: 72, tests: 'pass', approach: 'breaker' },
  };
  for (const [l, r] of Object.entries(results)) {
    const w = await server.api.post(`/v1/devboxes/${byLabel[l].id}/write_file_contents`, {
      file_path: '/home/user/result.json', contents: JSON.stringify(r),
    });
    assert.equal(w.status, 200, w.text);
  }
  await page.getByRole('button', { name: 'Read results' }).click();
  const table = page.getByTestId('compare-table');
  const row = (key) => table.locator(`[data-testid="compare-row"][data-key="${key}"]`);
  await row('score').waitFor();
  assert.equal(await row('score').getAttribute('data-differs'), 'true');
  assert.equal(await row('approach').getAttribute('data-differs'), 'true');
  assert.equal(await row('tests').getAttribute('data-differs'), 'false');
  assert.deepEqual(await row('score').locator('td').allTextContents(), ['61', '94', '72']);
  await table.getByTestId('compare-snapshots').waitFor();
  assert.deepEqual(await table.getByTestId('compare-snapshots').locator('td').allTextContents(), ['none', 'none', 'none']);
  assert.deepEqual(await table.getByTestId('compare-size').locator('td').allTextContents(), ['0 B', '0 B', '0 B']);
  // Sorted by score, best first; the batch's order back.
  await page.getByLabel('Sort by').selectOption('score');
  await table.getByTestId('compare-head').first().and(page.locator('[data-label="b"]')).waitFor();
  assert.deepEqual(await row('score').locator('td').allTextContents(), ['94', '72', '61']);
  assert.deepEqual(await row('approach').locator('td').allTextContents(), ['backoff', 'breaker', 'retry']);
  await page.getByLabel('Sort by').selectOption('');
  await table.getByTestId('compare-head').first().and(page.locator('[data-label="a"]')).waitFor();

  // A check command in each child.
  await page.getByLabel('Check command').fill('grep -o backoff result.json || echo none');
  await page.getByRole('button', { name: 'Run in each' }).click();
  const check = (l) => page.locator(`[data-testid="check-result"][data-label="${l}"]`);
  await check('b').getByText('exit 0').waitFor();
  assert.match(await check('b').locator('pre').textContent(), /^backoff\s*$/);
  assert.match(await check('a').locator('pre').textContent(), /^none\s*$/);

  for (const colorScheme of ['light', 'dark']) {
    for (const width of [1280, 360]) {
      const c = await openApp(browser, server.url, `/fanouts/${batch}`, {
        colorScheme, viewport: { width, height: 900 },
      });
      await c.page.getByTestId('fanout-state').getByText('3 of 3 running').waitFor();
      await c.page.getByRole('button', { name: 'Read results' }).click();
      await c.page.getByTestId('compare-table').waitFor();
      await screenshot(c.page, `fanout-compare-${colorScheme}-${width}`);
      assert.deepEqual(c.errors, []);
      await c.context.close();
    }
  }

  // Continue with b, picked in the table: one confirm that lists every child's step.
  await table.getByRole('button', { name: 'Pick b' }).click();
  assert.equal(await page.getByLabel('Attempt b').isChecked(), true, 'the pick is the choice below');
  await page.getByRole('button', { name: 'Continue with b…' }).click();
  const confirm = page.getByRole('dialog', { name: 'Continue with b?' });
  const plan = await confirm.getByTestId('continue-plan').locator('li').allTextContents();
  assert.deepEqual(plan, [
    'a: shut down (its disk is discarded)',
    'b: snapshot it, then pin that snapshot (cleanup keeps it); it keeps running',
    'c: shut down (its disk is discarded)',
  ]);
  await confirm.getByRole('button', { name: 'Continue' }).click();
  const step = (l) => page.locator(`[data-testid="continue-step"][data-label="${l}"]`);
  for (const l of ['a', 'b', 'c']) {
    await step(l).and(page.locator('[data-state="ok"]')).waitFor({ timeout: 30_000 }).catch(async (e) => {
      const steps = await page.getByTestId('continue-steps').textContent({ timeout: 1000 }).catch(() => '(no steps shown)');
      throw new Error(`${e.message}\nsteps: ${steps}`);
    });
  }
  const afterwards = Object.fromEntries(
    (await children(batch)).map((d) => [d.id, d.status]),
  );
  assert.equal(afterwards[byLabel.a.id], 'shutdown');
  assert.equal(afterwards[byLabel.c.id], 'shutdown');
  assert.equal(afterwards[byLabel.b.id], 'running');
  const kept = (await server.api.snapshots(`&devbox_id=${byLabel.b.id}`));
  assert.equal(kept.length, 1);
  assert.equal(kept[0].metadata['snapdeck.pinned'], 'true');
  assert.equal(kept[0].metadata[BATCH], batch);
  assert.match(kept[0].commit_message, /chose attempt b/);
  // Read again: b's snapshot shows with its commit message; a and c are no longer running.
  await page.getByRole('button', { name: 'Read results' }).click();
  await table.getByTestId('compare-snapshots').locator('td').nth(1).getByText(/^1 · newest “fan-out .*chose attempt b”$/).waitFor();
  assert.equal(await table.locator('tr').nth(1).locator('td').nth(0).textContent(), 'not running');

  // The batch is found again from metadata alone, and the source's timeline shows the
  // children as siblings under the snapshot.
  await page.goto(`${server.url}/fanouts`);
  await page.getByTestId('fanout-list').getByRole('link', { name: batch }).waitFor();
  await page.goto(`${server.url}/devboxes/${source.id}`);
  const node = page.locator(`[data-testid="snapshot-node"][data-snapshot-id="${snapshotId}"]`);
  const branches = node.getByRole('list', { name: 'Devboxes started from this snapshot' });
  await branches.waitFor();
  for (const name of ['fan-base-try-a', 'fan-base-try-b', 'fan-base-try-c']) {
    await branches.getByRole('link', { name }).first().waitFor();
  }
  assert.deepEqual(errors, []);
});

test('a timeline node offers Fan out for a complete snapshot, opening the same dialog for it', async () => {
  const devbox = (await server.api.devboxes()).find((d) => d.name === 'ci-warm-cache');
  const snaps = (await server.api.snapshots(`&devbox_id=${devbox.id}`))
    .sort((a, b) => b.create_time_ms - a.create_time_ms);
  const { context, page, errors } = await openApp(browser, server.url, `/devboxes/${devbox.id}`);
  const node = page.locator(`[data-testid="snapshot-node"][data-snapshot-id="${snaps[0].id}"]`);
  await node.and(page.locator('[data-status="complete"]')).waitFor({ timeout: 10_000 });
  await node.getByRole('button', { name: 'Fan out', exact: true }).click();
  const label = snaps[0].name || snaps[0].id;
  const dialog = page.getByRole('dialog', { name: `Fan out from “${label}”` });
  await dialog.getByLabel('Children').fill('2');
  await dialog.getByTestId('fanout-preview').getByText(/Starts 2 devboxes from this snapshot/).waitFor();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'detached' });
  assert.equal((await server.api.devboxes()).filter((d) => d.snapshot_id === snaps[0].id && d.metadata?.['snapdeck.fanout']).length, 0, 'nothing started on Cancel');
  assert.deepEqual(errors, []);
  await context.close();
});

test('in direct mode the tab launches the batch itself, and a reload resumes it', async () => {
  const devbox = (await server.api.devboxes()).find((d) => d.name === 'ci-warm-cache');
  const snap = (await server.api.snapshots(`&devbox_id=${devbox.id}`))
    .sort((a, b) => b.create_time_ms - a.create_time_ms)[0];
  const { page, errors, context } = await openApp(browser, server.url, `/snapshots/${snap.id}`, { tabOnly: true });
  await page.getByRole('button', { name: 'Fan out', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: /^Fan out from/ });
  await dialog.getByLabel('Children').fill('2');
  await dialog.getByLabel('At once').fill('1');
  await dialog.getByLabel(/^Its text/).fill('Tab attempt {label}');
  await dialog.getByRole('button', { name: 'Fan out', exact: true }).click();
  await page.waitForURL(/\/fanouts\/fo_[a-z0-9]+$/);
  const batch = decodeURIComponent(new URL(page.url()).pathname.split('/').pop());
  await page.getByTestId('fanout-tile').first().waitFor({ timeout: 10_000 });
  assert.ok((await children(batch)).length < 2, 'the reload lands mid-launch');
  await page.reload();
  const grid = page.getByTestId('fanout-grid');
  for (const l of ['a', 'b']) {
    const tile = grid.locator(`[data-testid="fanout-tile"][data-label="${l}"]`);
    await tile.and(page.locator('[data-phase="running"]')).waitFor({ timeout: 30_000 });
    await tile.getByTestId('task-written').waitFor({ timeout: 10_000 });
  }
  const kids = await children(batch);
  assert.equal(kids.length, 2, 'none created twice');
  for (const d of kids) {
    const task = await server.api.post(`/v1/devboxes/${d.id}/read_file_contents`, { file_path: 'TASK.md' });
    assert.equal(task.text, `Tab attempt ${d.metadata[ATTEMPT]}`);
  }
  const jobs = JSON.parse((await server.api.get('/_snapdeck/jobs')).text).jobs;
  assert.equal(jobs.filter((j) => j.batch_id === batch).length, 0, 'no server job: the tab did it');
  assert.deepEqual(errors, []);
  await context.close();
});
