// Cleanup as a person does it, in headless Chromium: open Cleanup scoped to one devbox
// with "keep newest 1", wait until the plan is shown, type the count, press Delete, wait
// for "Finished:".
//
//   node bench/cleanup-ui.mjs --url URL --devbox DBX --key KEY --expect 999
//        [--tab-only 1] [--plan-out FILE] [--timeout 300000]
//
// --url is the dashboard's origin (the app and its API, same origin); --key what the
// app sends as `Authorization: Bearer` (a proxy's access token, or an API key);
// --expect the deletes the plan should show. --tab-only 1 hides the server's jobs
// (/healthz answers `jobs: {available: false}`, as tests/e2e/harness.mjs's tabOnly
// does), so the tab plans and deletes itself, as in direct mode.
//
// The undo window is 0 (Settings' undo_seconds, in localStorage before the app starts):
// the run starts when Delete is pressed, not 10 s later.
//
// Times are the page's own clock (performance.now(), 0 = the navigation to /cleanup),
// taken by a MutationObserver the moment the DOM says so:
//   * plan shown: [data-testid=cleanup-summary] reads "Will delete N of M …" with no
//     "checking" left, and the Delete button is enabled once the count is typed;
//   * confirm → finished: from the Delete form's submit to "Finished:" in the run panel.
// Typing is not counted. With the jobs, each job's creation and end are given on the
// same clock, so the table can say where the time went (the tab, or the server). With the jobs (not --tab-only), the plan job's ids are written
// to --plan-out (a JSON array) so scripts/bench compares them with the expectation.
// BENCH_DEBUG=FILE.png: on a step that does not happen, a screenshot there; and the
// page's /_snapdeck and /healthz requests (path, start, end, bytes) on stderr.
// Prints one JSON object; a step that does not happen within --timeout gives
// `{"error", "stage", "summary"}` (what the page said) instead. Nothing asserts.

import { writeFileSync } from 'node:fs';

import { launch } from './load.mjs';

function args() {
  const out = { key: 'bench', expect: 999, timeout: 120000, 'tab-only': '0', 'plan-out': null };
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i += 2) out[a[i].replace(/^--/, '')] = a[i + 1];
  out.expect = Number(out.expect);
  out.timeout = Number(out.timeout);
  out.tabOnly = out['tab-only'] === '1';
  return out;
}

// Runs in the page before its scripts: stamps the moments the DOM shows each step.
function probe() {
  const summary = () => document.querySelector('[data-testid="cleanup-summary"]')?.textContent || '';
  const check = () => {
    const s = summary();
    if (window.__sdPlanShown === undefined && /^Will delete \d+ of \d+/.test(s)
        && !s.includes('checking') && !s.includes('Planning')) {
      window.__sdPlanShown = performance.now();
      window.__sdPlanText = s;
    }
    const panel = document.querySelector('[data-testid="bulk-panel"]');
    if (window.__sdFinished === undefined && panel && panel.textContent.includes('Finished:')) {
      window.__sdFinished = performance.now();
    }
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true, characterData: true });
  document.addEventListener('submit', () => {
    if (window.__sdSubmit === undefined) window.__sdSubmit = performance.now();
  }, true);
}

async function api(o, path) {
  const r = await fetch(o.url + path, { headers: { authorization: `Bearer ${o.key}` } });
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return r.json();
}

const isDelete = (item) => {
  const d = item.decision;
  return (typeof d === 'string' ? d : d?.decision) === 'delete';
};

// The server's jobs of this run: the delete run, and the plan it was confirmed from
// (the page plans again once the run is over; that later plan is not the one shown).
async function jobsOf(o) {
  const { jobs } = await api(o, '/_snapdeck/jobs?limit=50');
  const run = jobs.find((j) => j.kind === 'delete');
  const plan = jobs.find((j) => j.kind === 'plan' && j.id === run?.plan_job)
    || jobs.find((j) => j.kind === 'plan' && (!run || j.created_at_ms <= run.created_at_ms));
  const out = { plan: plan || null, run: run || null, plan_ids: null };
  if (plan) {
    const full = await api(o, `/_snapdeck/jobs/${plan.id}`);
    out.plan_ids = (full.plan?.items || []).filter(isDelete).map((i) => i.snapshot.id);
  }
  return out;
}

// A job's summary, its times on the page's clock (the server's epoch ms − the page's
// time origin: one machine, one clock), in seconds.
function job(j, origin) {
  if (!j) return null;
  const at = (ms) => (ms == null ? null : (ms - origin) / 1000);
  return {
    id: j.id, status: j.status, progress: j.progress,
    created_secs: at(j.created_at_ms), finished_secs: at(j.finished_at_ms),
  };
}

async function main() {
  const o = args();
  const browser = await launch();
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    if (o.tabOnly) {
      await context.route('**/healthz', async (route) => {
        const resp = await route.fetch();
        const body = await resp.json();
        await route.fulfill({ response: resp, json: { ...body, jobs: { ...body.jobs, available: false } } });
      });
    }
    await context.addInitScript((k) => {
      window.localStorage.setItem('snapdeck.settings', JSON.stringify({ undo_seconds: 0 }));
      window.sessionStorage.setItem('snapdeck.api_key', k);
    }, o.key);
    await context.addInitScript(probe);
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    // What the tab itself sent, by kind.
    const sent = { list: 0, status: 0, delete: 0, jobs: 0, other_api: 0 };
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (u.pathname.startsWith('/_snapdeck/jobs')) sent.jobs += 1;
      else if (!u.pathname.startsWith('/v1/')) return;
      else if (r.method() === 'POST' && u.pathname.endsWith('/delete')) sent.delete += 1;
      else if (u.pathname.endsWith('/status')) sent.status += 1;
      else if (u.pathname.startsWith('/v1/devboxes/disk_snapshots')) sent.list += 1;
      else sent.other_api += 1;
    });

    // On a timeout: which step, and what the page showed.
    let stage = 'plan shown';
    const stuck = async (e) => ({
      devbox: o.devbox,
      mode: o.tabOnly ? 'tab' : 'jobs',
      expect: o.expect,
      error: `${stage}: ${String(e.message || e).split('\n')[0]}`,
      stage,
      summary: await page.locator('[data-testid="cleanup-summary"]').textContent({ timeout: 1000 }).catch(() => null),
      sent_by_tab: sent,
      errors: errors.slice(0, 5),
    });

    await page.goto(`${o.url}/cleanup?devbox=${encodeURIComponent(o.devbox)}&keep=1`, { waitUntil: 'commit' });
    try {
      await page.waitForFunction(() => window.__sdPlanShown !== undefined, null, { timeout: o.timeout, polling: 100 });
    } catch (e) {
      console.log(JSON.stringify(await stuck(e)));
      await context.close();
      return;
    }
    const planShown = await page.evaluate(() => ({ ms: window.__sdPlanShown, text: window.__sdPlanText }));
    const m = /^Will delete (\d+) of (\d+)/.exec(planShown.text);
    const planned = m ? Number(m[1]) : null;

    // The person reads the number and types it; the button arms.
    await page.locator('[data-testid="cleanup-confirm"]').fill(String(planned));
    const go = page.getByRole('button', { name: `Delete ${planned} snapshots` });
    stage = 'Delete armed';
    try {
      await page.waitForFunction(
        (name) => [...document.querySelectorAll('button')].some((b) => b.textContent === name && !b.disabled),
        `Delete ${planned} snapshots`, { timeout: o.timeout },
      );
    } catch (e) {
      console.log(JSON.stringify({ ...(await stuck(e)), plan_text: planShown.text }));
      if (process.env.BENCH_DEBUG?.endsWith('.png')) await page.screenshot({ path: process.env.BENCH_DEBUG, fullPage: true });
      await context.close();
      return;
    }
    const sentAtPlan = { ...sent };
    await go.click();
    stage = 'Finished';
    try {
      await page.waitForFunction(() => window.__sdFinished !== undefined, null, { timeout: o.timeout, polling: 100 });
    } catch (e) {
      console.log(JSON.stringify(await stuck(e)));
      await context.close();
      return;
    }
    const t = await page.evaluate(() => ({
      submit: window.__sdSubmit, finished: window.__sdFinished, origin: performance.timeOrigin,
    }));
    const counts = await page.locator('[data-testid="bulk-counts"]').innerText().catch(() => '');
    const protocol = await page.evaluate(() => performance.getEntriesByType('resource')
      .find((r) => r.name.includes('/v1/'))?.nextHopProtocol || null);

    if (process.env.BENCH_DEBUG) {
      console.error(JSON.stringify(await page.evaluate(() => performance.getEntriesByType('resource')
        .filter((r) => /\/(_snapdeck|v1)\/|healthz|\.wasm/.test(r.name))
        .map((r) => [new URL(r.name).pathname, Math.round(r.startTime), Math.round(r.responseEnd), r.transferSize]))));
    }
    const jobs = o.tabOnly ? null : await jobsOf(o);
    if (o['plan-out'] && jobs?.plan_ids) {
      writeFileSync(o['plan-out'], JSON.stringify(jobs.plan_ids));
    }
    await context.close();
    const runMs = t.finished - t.submit;
    console.log(JSON.stringify({
      devbox: o.devbox,
      mode: o.tabOnly ? 'tab' : 'jobs',
      protocol,
      undo_seconds: 0,
      expect: o.expect,
      planned,
      plan_text: planShown.text,
      plan_shown_secs: planShown.ms / 1000,
      run_secs: runMs / 1000,
      // When Delete was pressed (submit), and when the panel said Finished: page clock.
      confirm_at_secs: t.submit / 1000,
      finished_at_secs: t.finished / 1000,
      total_secs: (planShown.ms + runMs) / 1000,
      // Including the time the bench took to type the count (not a person's).
      wall_secs: t.finished / 1000,
      counts,
      sent_by_tab_until_plan: sentAtPlan,
      sent_by_tab: sent,
      plan_job: job(jobs?.plan, t.origin),
      run_job: job(jobs?.run, t.origin),
      plan_job_deletes: jobs?.plan_ids ? jobs.plan_ids.length : null,
      errors: errors.slice(0, 5),
    }));
  } finally {
    await browser.close();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
