// The worker's cron: a triggered scheduled run (a job in the worker's Durable Object)
// deletes exactly the snapshots that snapdeck-core's plan lists for the emulator's
// state, and logs a report without the key.
// The expected plan comes from the same planner run natively (the `plan` example) over
// the state read before the run; the invariants below are checked independently of it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { env, inventory, upstreamJson, readWranglerLog } from "./helpers.mjs";

const PINNED_KEY = "snapdeck.pinned";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Gives the test its own devbox with a known history on top of the demo data. */
async function seedHistory() {
  const devbox = await upstreamJson("/v1/devboxes", {
    method: "POST",
    body: JSON.stringify({ name: "edge-retention", metadata: { suite: "edge" } }),
  });
  for (let i = 0; i < 50; i++) {
    const d = await upstreamJson(`/v1/devboxes/${devbox.id}`);
    if (d.status === "running") break;
    await sleep(100);
  }
  const ids = [];
  for (let i = 1; i <= 5; i++) {
    const snap = await upstreamJson(`/v1/devboxes/${devbox.id}/snapshot_disk`, {
      method: "POST",
      body: JSON.stringify({ name: `step-${i}`, metadata: { suite: "edge" } }),
    });
    ids.push(snap.id);
    await sleep(20);
  }
  // Pin the oldest: no policy may delete it.
  await upstreamJson(`/v1/devboxes/disk_snapshots/${ids[0]}`, {
    method: "POST",
    body: JSON.stringify({ metadata: { suite: "edge", [PINNED_KEY]: "true" } }),
  });
  return { devbox, ids };
}

/** The plan snapdeck-core makes for `state` under the test's policies, run natively. */
function expectedPlan(state, nowMs) {
  const input = JSON.stringify({
    policies: JSON.parse(readFileSync(env.policiesFile, "utf8")),
    now_ms: nowMs,
    snapshots: state,
  });
  const out = execFileSync(process.env.EDGE_PLAN_BIN, [], { input, encoding: "utf8" });
  return JSON.parse(out);
}

test("a triggered cron deletes exactly the snapshots its plan lists", async () => {
  const { ids } = await seedHistory();
  // Wait until no snapshot is in progress, so none changes status between the expected
  // plan and the worker's (the test policy has no age rule, so the clock does not matter).
  let before = await inventory();
  for (let i = 0; i < 50 && before.some((s) => s.status === "in_progress"); i++) {
    await sleep(200);
    before = await inventory();
  }
  assert.ok(!before.some((s) => s.status === "in_progress"), "snapshots still in progress");
  const plan = expectedPlan(before, Date.now());
  const planned = new Set(plan.delete);
  assert.ok(planned.size > 0, "the test policies should plan some deletions");

  // Independent of the planner: what no plan may ever contain.
  const byId = new Map(before.map((s) => [s.snapshot.id, s]));
  for (const id of planned) {
    const s = byId.get(id);
    assert.ok(s, `planned ${id} does not exist`);
    assert.notEqual(s.snapshot.metadata[PINNED_KEY], "true", `planned pinned ${id}`);
    // The test policy keeps errored snapshots (the API refuses to delete them anyway).
    assert.equal(s.status, "complete", `planned ${id} which is ${s.status}`);
  }
  assert.ok(!planned.has(ids[0]), "the pinned snapshot is planned");
  const newestComplete = new Map();
  for (const s of before.filter((s) => s.status === "complete")) {
    const cur = newestComplete.get(s.snapshot.source_devbox_id);
    if (!cur || s.snapshot.create_time_ms > cur.snapshot.create_time_ms) {
      newestComplete.set(s.snapshot.source_devbox_id, s);
    }
  }
  for (const s of newestComplete.values()) {
    assert.ok(!planned.has(s.snapshot.id), `the newest complete ${s.snapshot.id} is planned`);
  }

  // Only this run's lines count: an earlier cron (jobs.test.mjs) logged its own report.
  const logFrom = (await readWranglerLog()).length;
  const res = await fetch(`${env.edgeUrl}/__scheduled?cron=${encodeURIComponent("17 3 * * *")}`);
  assert.equal(res.status, 200, await res.text());

  // The cron starts a job; its alarms run it and log the report when it ends.
  let log = "";
  for (let i = 0; i < 600 && !/retention: done/.test(log); i++) {
    await sleep(100);
    log = (await readWranglerLog()).slice(logFrom);
  }
  assert.match(log, /retention: done/, "the run's summary line is in the log");

  const after = new Set((await inventory()).map((s) => s.snapshot.id));
  const deleted = new Set(before.map((s) => s.snapshot.id).filter((id) => !after.has(id)));
  assert.deepEqual([...deleted].sort(), [...planned].sort(), "deleted set = planned set");

  assert.match(log, new RegExp(`retention: done: ${planned.size} deleted, \\d+ kept, 0 skipped, 0 failed`));
  for (const id of planned) assert.match(log, new RegExp(`deleted ${id}\\b`));
  for (const s of before.filter((s) => !planned.has(s.snapshot.id))) {
    assert.match(log, new RegExp(`kept ${s.snapshot.id}\\b`));
  }
  assert.ok(!log.includes(env.apiKey), "the key is in the log");
});
