// Heavy work on the server: a bulk delete started in one browser runs as a job on
// snapdeck-server, so a second browser (another person) sees it in its operations
// tray while it runs, and the first browser can close and come back to it finished.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openApp, screenshot, startServer } from './harness.mjs';

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

test('a delete started in one browser is a job another browser sees; closing the first does not stop it', async () => {
  const ci = (await server.api.devboxes()).find((d) => d.name === 'ci-warm-cache');
  const list = (await server.api.snapshots(`&devbox_id=${ci.id}`))
    .sort((a, b) => b.create_time_ms - a.create_time_ms);
  const pick = list.slice(1, 4).map((s) => s.id);

  const a = await openApp(browser, server.url, `/snapshots?devbox=${ci.id}`);
  const b = await openApp(browser, server.url, '/devboxes');
  await b.page.locator('[data-testid="devbox-row"]').first().waitFor();
  for (const id of pick) {
    const row = a.page.locator(`[data-testid="snapshot-row"][data-id="${id}"][data-status="complete"]`);
    await row.waitFor();
    await row.locator('input[type="checkbox"]').click();
  }
  await a.page.getByRole('button', { name: 'Delete selected…' }).click();
  await a.page.waitForFunction(() => !document.querySelector('[role="dialog"] button[type="submit"]')?.disabled);
  // Slow every /v1 call down: the job runs for a few seconds.
  await server.api.faults({ fault_latency_ms: 1500 });
  await a.page.getByRole('dialog').getByRole('button', { name: 'Delete 3 snapshots' }).click();

  // The other browser's tray shows it, as someone else's job.
  const seen = b.page.locator('[data-testid="others-job"]');
  await seen.first().waitFor({ timeout: 15_000 });
  assert.match(await seen.first().innerText(), /Another browser's delete: \d of 3 deleted/);
  await screenshot(b.page, 'jobs-others-tray');
  // The first browser goes away mid-run.
  await a.context.close();
  await server.api.faults({ fault_latency_ms: 0 });

  // The job finishes without it: exactly the three are gone.
  const deadline = Date.now() + 30_000;
  let job;
  while (Date.now() < deadline) {
    const jobs = (await server.api.get('/_snapdeck/jobs')).json.jobs;
    job = jobs.find((j) => j.kind === 'delete');
    if (job?.status === 'finished') break;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.equal(job?.status, 'finished');
  assert.equal(job.progress.done, 3);
  const left = new Set((await server.api.snapshots(`&devbox_id=${ci.id}`)).map((s) => s.id));
  assert.deepEqual(pick.filter((id) => left.has(id)), [], 'the three confirmed are gone');
  assert.equal(left.size, list.length - 3, 'nothing else was deleted');
  // Gone from the other browser's tray once it has finished.
  await seen.first().waitFor({ state: 'detached', timeout: 10_000 });
  assert.deepEqual([...a.errors, ...b.errors], []);
  await b.context.close();
});
