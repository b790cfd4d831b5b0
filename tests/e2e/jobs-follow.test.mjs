// A job on snapdeck-server is followed live: the page opens the job's event stream
// (server-sent events read with fetch, so the Bearer key goes with them) and shows
// each deleted snapshot as the server reports it, instead of reading the whole job
// over and over. Where the stream cannot be had (a proxy in between that drops it,
// the edge worker, which serves none), the page reads the job every few hundred ms
// instead and ends in the same place.

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

const summary = (page) => page.locator('[data-testid="cleanup-summary"]');
const JOB = /^\/_snapdeck\/jobs\/(job_[0-9a-f]+)(\/events)?$/;

/** Counts the page's reads of each job, and which jobs it followed as a stream. */
function watchJobCalls(page) {
  const reads = new Map();
  const streams = new Set();
  page.on('request', (r) => {
    const m = JOB.exec(new URL(r.url()).pathname);
    if (!m || r.method() !== 'GET') return;
    if (m[2]) streams.add(m[1]);
    else reads.set(m[1], (reads.get(m[1]) ?? 0) + 1);
  });
  return { reads, streams };
}

/** Plans keep 1 on `devbox`, confirms every delete, and waits for "Finished:". */
async function cleanUp(page, devbox, count) {
  await page.goto(`${new URL(page.url()).origin}/cleanup?devbox=${devbox}&keep=1`);
  await summary(page).filter({ hasText: `Will delete ${count} of ${count + 1} snapshots` }).waitFor({ timeout: 20_000 });
  await page.waitForFunction(() => !document.querySelector('[data-testid="cleanup-summary"]').textContent.includes('checking'));
  await page.locator('[data-testid="cleanup-confirm"]').fill(String(count));
  // Every /v1 call of the run now takes 700 ms: its deletes settle over a few seconds.
  await server.api.faults({ fault_latency_ms: 700 });
  const progress = [];
  await page.exposeFunction('__sdProgress', (t) => progress.push(t)).catch(() => {});
  await page.evaluate(() => {
    new MutationObserver(() => {
      const c = document.querySelector('[data-testid="bulk-counts"]');
      if (c) window.__sdProgress(c.textContent);
    }).observe(document.body, { childList: true, subtree: true, characterData: true });
  });
  await page.getByRole('button', { name: `Delete ${count} snapshots` }).click();
  await page.getByText(/^Finished:/).waitFor({ timeout: 30_000 });
  await server.api.faults({ fault_latency_ms: 0 });
  const counts = await page.locator('[data-testid="bulk-counts"]').innerText();
  return { counts, progress };
}

/** A running devbox with `n` complete snapshots, made through the API. */
async function seedDevbox(name, n) {
  const until = async (what, ok) => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const v = await what();
      if (ok(v)) return v;
      if (Date.now() > deadline) throw new Error(`timed out: ${JSON.stringify(v)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const dbx = (await server.api.post('/v1/devboxes', { name })).json;
  await until(async () => (await server.api.get(`/v1/devboxes/${dbx.id}`)).json, (d) => d.status === 'running');
  const ids = [];
  for (let i = 0; i < n; i += 1) {
    const r = await server.api.post(`/v1/devboxes/${dbx.id}/snapshot_disk_async`, { name: `${name}-${i}` });
    ids.push(r.json.id);
  }
  for (const id of ids) {
    await until(
      async () => (await server.api.get(`/v1/devboxes/disk_snapshots/${id}/status`)).json,
      (s) => s.status === 'complete',
    );
  }
  return dbx;
}

test('a cleanup on the server is followed over its event stream, item by item', async () => {
  const dbx = await seedDevbox('follow-live', 7);
  const { context, page, errors } = await openApp(browser, server.url, '/devboxes');
  const { reads, streams } = watchJobCalls(page);
  const { counts, progress } = await cleanUp(page, dbx.id, 6);
  assert.match(counts, /6 deleted · 0 failed · 0 skipped · 0 left/);

  const jobs = (await server.api.get('/_snapdeck/jobs')).json.jobs;
  const run = jobs.find((j) => j.kind === 'delete' && j.status === 'finished');
  const plan = jobs.find((j) => j.id === run.plan_job);
  assert.ok(streams.has(plan.id), 'the plan job was followed as a stream');
  assert.ok(streams.has(run.id), 'the delete job was followed as a stream');
  // Created, then read once at its end: not read every 200 ms for the seconds it ran.
  assert.ok((reads.get(run.id) ?? 0) <= 2, `the delete job was read ${reads.get(run.id)} times`);
  // The panel showed the run under way before it was over.
  assert.ok(progress.some((t) => / left \(/.test(t) && !/ 0 left/.test(t)), `progress seen: ${[...new Set(progress)].join(' | ')}`);
  const left = await server.api.snapshots(`&devbox_id=${dbx.id}`);
  assert.equal(left.length, 1, 'the newest is kept, the six others are gone');
  assert.deepEqual(errors, []);
  await context.close();
});

test('without the event stream the page reads the job instead and ends the same', async () => {
  const dbx = await seedDevbox('follow-polled', 4);
  const { context, page, errors } = await openApp(browser, server.url, '/devboxes');
  // A proxy in between that drops event streams.
  await context.route('**/_snapdeck/jobs/*/events', (route) => route.abort('connectionreset'));
  const { reads, streams } = watchJobCalls(page);
  const { counts } = await cleanUp(page, dbx.id, 3);
  assert.match(counts, /3 deleted · 0 failed · 0 skipped · 0 left/);
  const jobs = (await server.api.get('/_snapdeck/jobs')).json.jobs;
  const run = jobs.find((j) => j.kind === 'delete' && j.status === 'finished' && j.progress.total === 3);
  assert.ok(streams.has(run.id), 'the stream was tried');
  assert.ok((reads.get(run.id) ?? 0) >= 3, `polled instead: ${reads.get(run.id)} reads`);
  const left = await server.api.snapshots(`&devbox_id=${dbx.id}`);
  assert.equal(left.length, 1);
  // A dropped stream is not an unreachable API.
  assert.equal(await page.getByText(/unreachable/i).count(), 0);
  assert.deepEqual(errors, []);
  await context.close();
});
