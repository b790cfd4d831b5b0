// The jobs API on the edge (`/_snapdeck/jobs`) and the cron as a job, over a fleet:
// 5,000 snapshots on 50 devboxes seeded through the emulator. Every job runs in the
// worker's Durable Object, one bounded chunk per alarm (scripts/edge-test sets
// JOBS_CHUNK_REQUESTS low), so each one here must continue across several alarms.
// What each must delete is computed here, independently of snapdeck-core, from the
// seeded state and the policy; what is gone afterwards must be exactly that, and the
// audit trail (`/_snapdeck/audit`) must hold one entry per item each job settled.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { env, edge, upstreamJson, readWranglerLog } from "./helpers.mjs";

const DEVBOXES = 50;
const PER_DEVBOX = 100;
const PINNED_KEY = "snapdeck.pinned";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` over `items`, `n` at a time. */
async function pool(items, n, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

/** Every snapshot the emulator lists (all pages). */
async function listAll() {
  const all = [];
  let after = null;
  for (;;) {
    const q = new URLSearchParams({ limit: "5000", include_total_count: "false" });
    if (after) q.set("starting_after", after);
    const page = await upstreamJson(`/v1/devboxes/disk_snapshots?${q}`);
    all.push(...page.snapshots);
    if (!page.has_more || page.snapshots.length === 0) return all;
    after = page.snapshots.at(-1).id;
  }
}

/** Terminal statuses seen so far: they never change, so they are asked once. */
const terminal = new Map();

/** Every snapshot with its status, straight from the emulator. */
async function inventory() {
  const snapshots = await listAll();
  const statuses = await pool(snapshots, 32, async (s) => {
    if (terminal.has(s.id)) return terminal.get(s.id);
    const { status } = await upstreamJson(`/v1/devboxes/disk_snapshots/${s.id}/status`);
    if (["complete", "error", "deleted"].includes(status)) terminal.set(s.id, status);
    return status;
  });
  return snapshots.map((snapshot, i) => ({ snapshot, status: statuses[i] }));
}

/** Newest first, ties by id (descending), as a plan ranks them. */
function newestFirst(a, b) {
  if (a.snapshot.create_time_ms !== b.snapshot.create_time_ms) {
    return b.snapshot.create_time_ms - a.snapshot.create_time_ms;
  }
  return a.snapshot.id < b.snapshot.id ? 1 : a.snapshot.id > b.snapshot.id ? -1 : 0;
}

function byDevbox(inv) {
  const groups = new Map();
  for (const s of inv) {
    const list = groups.get(s.snapshot.source_devbox_id) ?? [];
    list.push(s);
    groups.set(s.snapshot.source_devbox_id, list);
  }
  for (const list of groups.values()) list.sort(newestFirst);
  return groups;
}

/**
 * What "keep the newest `keep` complete snapshots of every devbox" deletes: the other
 * complete ones, never a pinned one, never anything not complete (errored ones are
 * kept by default, in-progress and unknown ones always), never a devbox's newest.
 */
function expectedDeletes(inv, keep) {
  const out = new Set();
  for (const list of byDevbox(inv).values()) {
    let rank = 0;
    for (const s of list) {
      if (s.status !== "complete") continue;
      rank += 1;
      if (s.snapshot.metadata?.[PINNED_KEY] === "true") continue;
      if (rank > Math.max(keep, 1)) out.add(s.snapshot.id);
    }
  }
  return out;
}

/** Asserts every devbox of `inv` still has its newest `keep` complete snapshots. */
function assertNewestKept(inv, keep, remaining) {
  for (const [devbox, list] of byDevbox(inv)) {
    const newest = list.filter((s) => s.status === "complete").slice(0, keep);
    for (const s of newest) {
      assert.ok(remaining.has(s.snapshot.id), `${devbox} lost ${s.snapshot.id}, among its newest ${keep}`);
    }
  }
}

const auth = () => ({ authorization: `Bearer ${env.token}`, "content-type": "application/json" });

/**
 * A jobs API call. Every call here is safe to repeat (a creation carries its request id,
 * a cancel of a cancelled job changes nothing), so a connection error is retried: the
 * local dev stack (wrangler's proxy in front of workerd) can drop one while a job has
 * thousands of requests of its own going out.
 */
async function jobs(method, path = "", body) {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await edge(`/_snapdeck/jobs${path}`, {
        method,
        headers: auth(),
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, headers: res.headers, json: res.text ? JSON.parse(res.text) : null };
    } catch (e) {
      if (attempt >= 5 || !(e instanceof TypeError)) throw e;
      await sleep(200 * attempt);
    }
  }
}

/** `GET /_snapdeck/audit` with `params`; `json` is parsed unless the answer is CSV. */
async function audit(params, headers = auth()) {
  const res = await edge(`/_snapdeck/audit?${new URLSearchParams(params)}`, { headers });
  const csv = (res.headers.get("content-type") ?? "").startsWith("text/csv");
  return { ...res, json: csv ? null : JSON.parse(res.text) };
}

/** A job's audit entries (its id is in each entry's text), oldest first. */
async function trailOf(jobId, params = {}) {
  const res = await audit({ q: jobId, limit: "10000", ...params });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.has_more, false);
  return res.json.entries.filter((e) => e.job_id === jobId).reverse();
}

/** RFC 4180 rows: quoted fields may hold commas, quotes (doubled) and line breaks. */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") row.push(field), (field = "");
    else if (c === "\r" && text[i + 1] === "\n") {
      row.push(field), rows.push(row), (row = []), (field = ""), i++;
    } else field += c;
  }
  assert.equal(field + row.join(""), "", "the CSV ends with a line break");
  return rows;
}

/** A job's summary, from the list (light: no items, no plan). */
async function summary(id) {
  const { status, json } = await jobs("GET", "?limit=20");
  assert.equal(status, 200, JSON.stringify(json));
  const found = json.jobs.find((j) => j.id === id);
  assert.ok(found, `job ${id} is not among the newest`);
  return found;
}

/** Polls a job until it is over (finished, cancelled or failed); then the job in full. */
async function waitJob(id, timeoutMs = 120_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const s = await summary(id);
    if (["finished", "cancelled", "failed"].includes(s.status)) break;
    assert.ok(Date.now() < until, `job ${id} still ${s.status} at stage ${s.stage}`);
    await sleep(250);
  }
  const { status, json } = await jobs("GET", `/${id}`);
  assert.equal(status, 200, JSON.stringify(json));
  return json;
}

let seeded; // { devboxes: [ids], snapshots: Set(ids) }

before(async () => {
  const devboxes = await pool([...Array(DEVBOXES).keys()], 10, (i) =>
    upstreamJson("/v1/devboxes", {
      method: "POST",
      body: JSON.stringify({ name: `fleet-${i}`, metadata: { suite: "edge-jobs" } }),
    }),
  );
  for (const d of devboxes) {
    for (let i = 0; i < 100; i++) {
      if ((await upstreamJson(`/v1/devboxes/${d.id}`)).status === "running") break;
      await sleep(50);
    }
  }
  const work = devboxes.flatMap((d) => [...Array(PER_DEVBOX).keys()].map((k) => [d.id, k]));
  const snaps = await pool(work, 16, ([id, k]) =>
    upstreamJson(`/v1/devboxes/${id}/snapshot_disk_async`, {
      method: "POST",
      body: JSON.stringify({ name: `fleet-${k}`, metadata: { suite: "edge-jobs" } }),
    }),
  );
  seeded = { devboxes: devboxes.map((d) => d.id), snapshots: new Set(snaps.map((s) => s.id)) };
  // Until nothing is in progress, so no status changes between a plan here and the job's.
  for (let i = 0; i < 60; i++) {
    await sleep(500);
    const inv = await inventory();
    if (!inv.some((s) => s.status === "in_progress")) return;
  }
  assert.fail("snapshots still in progress after 30 s");
});

test("the jobs API asks for the portal's token and answers polling for live events", async () => {
  const res = await edge("/_snapdeck/jobs", { method: "GET" });
  assert.equal(res.status, 401);
  const health = JSON.parse((await edge("/healthz")).text);
  // Plans and deletes run here; fan-outs are launched by the dashboard itself.
  assert.deepEqual(health.jobs, {
    available: true, path: "/_snapdeck/jobs", events: false, kinds: ["plan", "delete"],
  });
  const events = await jobs("GET", "/job_x/events");
  assert.equal(events.status, 501);
  assert.match(events.json.message, /poll/);
  assert.equal((await jobs("GET", "/job_nope")).status, 404);
});

test("the audit trail asks for the token too and names a bad parameter", async () => {
  assert.equal((await audit({}, {})).status, 401);
  const bad = await audit({ outcome: "gone" });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.message, 'outcome must be one of done, failed, skipped, cancelled, got "gone"');
  for (const [params, message] of [
    [{ actor: "me" }, /^actor must be one of this_browser, edge_cron, server, edge/],
    [{ since: "yesterday" }, /^since must be a time in milliseconds/],
    [{ limit: "0" }, /^limit must be an integer between 1 and 10000/],
    [{ format: "xml" }, /^format must be json or csv/],
  ]) {
    const res = await audit(params);
    assert.equal(res.status, 400, JSON.stringify(params));
    assert.match(res.json.message, message);
  }
  const post = await edge("/_snapdeck/audit", { method: "POST", headers: auth(), body: "{}" });
  assert.equal(post.status, 405, "the trail is written by the edge's own jobs only");
});

test("a plan job and its delete job continue across alarms and delete exactly the plan", async () => {
  const keep = 80;
  const inv = await inventory();
  assert.ok(inv.length >= DEVBOXES * PER_DEVBOX, `${inv.length} snapshots`);
  const expected = expectedDeletes(inv, keep);
  assert.ok(expected.size >= DEVBOXES * (PER_DEVBOX - keep), `${expected.size} to delete`);

  const request = {
    request_id: `jobs-test-plan-${Date.now()}`,
    client_id: "jobs-test",
    kind: "plan",
    policy: { scope: "all", keep_newest: keep },
  };
  const created = await jobs("POST", "", request);
  assert.equal(created.status, 201, JSON.stringify(created.json));
  assert.equal(created.headers.get("cache-control"), "no-store");
  const again = await jobs("POST", "", request);
  assert.equal(again.status, 200, "the same request id answers the same job");
  assert.equal(again.json.id, created.json.id);
  const other = await jobs("POST", "", { ...request, policy: { scope: "all", keep_newest: 3 } });
  assert.equal(other.status, 409, "a request id is not reused for another job");

  const plan = await waitJob(created.json.id);
  assert.equal(plan.status, "finished", JSON.stringify(plan.error));
  assert.ok(plan.chunks > 1, `the plan took ${plan.chunks} alarm(s)`);
  assert.equal(plan.progress.total, inv.length);
  const planned = new Set(
    plan.plan.items.filter((i) => i.decision.decision === "delete").map((i) => i.snapshot.id),
  );
  assert.deepEqual([...planned].sort(), [...expected].sort(), "the plan deletes what keep-80 deletes");
  const listed = (await jobs("GET", "?limit=5")).json.jobs;
  assert.ok(listed.some((j) => j.id === plan.id), "the list shows it");

  // The run deletes the plan's deletes; one id it keeps is refused, never added.
  const kept = plan.plan.items.find((i) => i.decision.decision === "keep").snapshot.id;
  const bad = await jobs("POST", "", {
    request_id: `jobs-test-bad-${Date.now()}`,
    kind: "delete",
    plan_job: plan.id,
    snapshot_ids: [kept],
  });
  assert.equal(bad.status, 422);
  const run = await jobs("POST", "", {
    request_id: `jobs-test-run-${Date.now()}`,
    client_id: "jobs-test",
    kind: "delete",
    plan_job: plan.id,
    snapshot_ids: [...planned],
  });
  assert.equal(run.status, 201, JSON.stringify(run.json));
  assert.equal(run.json.items.length, planned.size);
  const done = await waitJob(run.json.id);
  assert.equal(done.status, "finished", JSON.stringify(done.error));
  assert.ok(done.chunks > 1, `the run took ${done.chunks} alarm(s)`);
  assert.equal(done.progress.done, planned.size, JSON.stringify(done.progress));
  assert.ok(done.items.every((i) => i.state.state === "done"), "every item deleted");
  const trail = await trailOf(done.id);
  assert.equal(trail.length, planned.size, "one audit entry per deleted snapshot");
  assert.deepEqual(trail.map((e) => e.target_id).sort(), [...planned].sort());
  for (const e of trail) {
    assert.equal(e.actor, "edge", "a job a person started is the edge worker's");
    assert.equal(e.action, "delete_snapshot");
    assert.equal(e.outcome, "done");
    assert.match(e.policy, new RegExp(`keep the newest ${keep} complete snapshots`));
  }

  const remaining = new Set((await listAll()).map((s) => s.id));
  const gone = inv.map((s) => s.snapshot.id).filter((id) => !remaining.has(id));
  assert.deepEqual(gone.sort(), [...expected].sort(), "deleted = the plan, nothing outside it");
  assertNewestKept(inv, keep, remaining);
  const left = new Map(seeded.devboxes.map((d) => [d, 0]));
  for (const s of inv) {
    const d = s.snapshot.source_devbox_id;
    if (seeded.snapshots.has(s.snapshot.id) && remaining.has(s.snapshot.id)) left.set(d, left.get(d) + 1);
  }
  for (const [devbox, n] of left) assert.equal(n, keep, `${devbox} keeps its newest ${keep}`);

  // A second plan asks no status the first one learnt: they are terminal, and cached.
  const second = await jobs("POST", "", {
    request_id: `jobs-test-plan-again-${Date.now()}`,
    kind: "plan",
    policy: { scope: "all", keep_newest: keep },
  });
  const replan = await waitJob(second.json.id);
  assert.equal(replan.status, "finished");
  assert.equal(replan.progress.cached, replan.progress.total, JSON.stringify(replan.progress));
  assert.equal(replan.progress.to_delete, 0, "nothing left to delete at keep-80");
});

test("a cancel mid-run stops the deletes with every item accounted for", async () => {
  const inv = await inventory();
  const keep = 40;
  const expected = expectedDeletes(inv, keep);
  const confirmed = inv
    .filter((s) => expected.has(s.snapshot.id))
    .map((s) => ({
      snapshot_id: s.snapshot.id,
      source_devbox_id: s.snapshot.source_devbox_id,
      name: s.snapshot.name,
      size_bytes: s.snapshot.size_bytes,
      status: s.status,
    }));
  // Slow every API call down, so the run is still going when the cancel lands.
  await upstreamJson("/_emulator/faults", { method: "POST", body: JSON.stringify({ fault_latency_ms: 25 }) });
  try {
    const run = await jobs("POST", "", {
      request_id: `jobs-test-cancel-${Date.now()}`,
      kind: "delete",
      confirmed,
      policy: { scope: "all", keep_newest: keep },
    });
    assert.equal(run.status, 201, JSON.stringify(run.json));
    const id = run.json.id;
    for (let i = 0; i < 600; i++) {
      const json = await summary(id);
      if (json.progress.done >= 30 || !["queued", "running"].includes(json.status)) break;
      await sleep(50);
    }
    const cancel = await jobs("POST", `/${id}/cancel`);
    assert.equal(cancel.status, 200);
    assert.equal(cancel.json.cancel_requested, true);
    const job = await waitJob(id);
    assert.equal(job.status, "cancelled", `the run ended ${job.status} before the cancel`);
    const states = job.items.map((i) => i.state.state);
    assert.ok(states.every((s) => ["done", "skipped", "failed"].includes(s)), "nothing left pending");
    const { done, skipped, failed, total } = job.progress;
    assert.equal(done + skipped + failed, total);
    assert.equal(total, confirmed.length);
    assert.ok(done > 0, "some were deleted before the cancel");
    const cancelled = job.items.filter((i) => i.state.reason?.reason === "cancelled").length;
    assert.ok(cancelled > 0, "the rest were skipped as cancelled");

    const remaining = new Set((await listAll()).map((s) => s.id));
    const gone = new Set(inv.map((s) => s.snapshot.id).filter((id) => !remaining.has(id)));
    const doneIds = new Set(job.items.filter((i) => i.state.state === "done").map((i) => i.confirmed.snapshot_id));
    assert.deepEqual([...gone].sort(), [...doneIds].sort(), "exactly the items done are gone");
    // Every item in the trail once, as it ended — a cancel included.
    const trail = await trailOf(id);
    assert.equal(trail.length, job.items.length, "one entry per item");
    assert.equal(new Set(trail.map((e) => e.id)).size, trail.length, "no entry twice");
    const count = (o) => trail.filter((e) => e.outcome === o).length;
    assert.equal(count("done"), doneIds.size);
    assert.equal(count("cancelled"), cancelled);
    assert.equal((await trailOf(id, { outcome: "cancelled" })).length, cancelled, "filtered by outcome");
    for (const gid of gone) assert.ok(expected.has(gid), `${gid} was not confirmed`);
    const again = await jobs("POST", `/${id}/cancel`);
    assert.equal(again.json.status, "cancelled", "a finished job is answered unchanged");
  } finally {
    await upstreamJson("/_emulator/faults", { method: "POST", body: JSON.stringify({ fault_latency_ms: 0 }) });
  }
});

test("the cron is a job too: it runs across alarms and deletes exactly its plan", async () => {
  const policies = JSON.parse(readFileSync(env.policiesFile, "utf8"));
  assert.equal(policies.length, 1, "this test computes one policy's plan");
  assert.equal(policies[0].scope, "all");
  const keep = policies[0].keep_newest;
  const inv = await inventory();
  const expected = expectedDeletes(inv, keep);
  assert.ok(expected.size > 1000, `${expected.size} to delete`);
  const logFrom = (await readWranglerLog()).length;
  const startedAt = Date.now();

  const res = await fetch(`${env.edgeUrl}/__scheduled?cron=${encodeURIComponent("17 3 * * *")}`);
  assert.equal(res.status, 200, await res.text());
  let job;
  for (let i = 0; i < 100 && !job; i++) {
    const { json } = await jobs("GET", "?limit=10");
    job = json.jobs.find((j) => j.client_id === "edge cron" && j.created_at_ms >= startedAt - 1000);
    if (!job) await sleep(100);
  }
  assert.ok(job, "the cron created a job");
  const done = await waitJob(job.id, 150_000);
  assert.equal(done.status, "finished", JSON.stringify(done.error));
  assert.equal(done.kind, "delete");
  assert.ok(done.chunks > 1, `the cron's job took ${done.chunks} alarm(s)`);
  assert.equal(done.progress.done, expected.size, JSON.stringify(done.progress));

  const remaining = new Set((await listAll()).map((s) => s.id));
  const gone = inv.map((s) => s.snapshot.id).filter((id) => !remaining.has(id));
  assert.deepEqual(gone.sort(), [...expected].sort(), "deleted = the plan, nothing outside it");
  assertNewestKept(inv, keep, remaining);

  // The trail: one `done` entry per snapshot the cron deleted, the cron named as actor.
  const trail = await trailOf(done.id, { actor: "edge_cron", outcome: "done" });
  assert.deepEqual(trail.map((e) => e.target_id).sort(), [...expected].sort());
  assert.ok(trail.every((e) => e.policy === trail[0].policy && /^For every devbox: /.test(e.policy)));
  assert.equal((await trailOf(done.id, { outcome: "skipped" })).length, 0, "nothing skipped");
  assert.equal((await trailOf(done.id, { actor: "edge" })).length, 0, "nothing by another actor");
  const csv = await audit({ q: done.id, outcome: "done", limit: "10000", format: "csv" });
  assert.equal(csv.status, 200, csv.text);
  assert.equal(csv.headers.get("content-type"), "text/csv; charset=utf-8");
  assert.match(csv.headers.get("content-disposition"), /^attachment; filename="snapdeck-audit-\d{4}-\d\d-\d\d\.csv"$/);
  const [header, ...rows] = parseCsv(csv.text);
  assert.deepEqual(header, [
    "id", "at_ms", "at_utc", "actor", "action", "target_id", "target_name", "devbox_id",
    "job_id", "policy", "outcome", "reason",
  ]);
  assert.equal(rows.length, expected.size, "a row per deleted snapshot");
  const column = (name) => rows.map((r) => r[header.indexOf(name)]);
  assert.deepEqual(column("target_id").sort(), [...expected].sort());
  assert.ok(column("actor").every((a) => a === "edge_cron"));
  assert.ok(column("policy").every((p) => p === trail[0].policy), "the policy, commas and all");

  let log = "";
  for (let i = 0; i < 50 && !/retention: done/.test(log); i++) {
    log = (await readWranglerLog()).slice(logFrom);
    if (!/retention: done/.test(log)) await sleep(100);
  }
  assert.match(log, new RegExp(`retention: done: ${expected.size} deleted, \\d+ kept, 0 skipped, 0 failed`));
  assert.ok(!log.includes(env.apiKey), "the key is in the log");
});
