// RETENTION_DRY_RUN: a third worker, same upstream and policies, plans and reports but
// deletes nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { inventory } from "./helpers.mjs";

const url = process.env.EDGE_DRY_RUN_URL;
const log = process.env.EDGE_DRY_RUN_LOG;
const skip = !url || !log ? "EDGE_DRY_RUN_URL is not set: run through scripts/edge-test" : false;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test("a dry run reports what it would delete and deletes nothing", { skip }, async () => {
  const before = (await inventory()).map((s) => s.snapshot.id).sort();
  const res = await fetch(`${url}/__scheduled?cron=${encodeURIComponent("17 3 * * *")}`);
  assert.equal(res.status, 200);
  let text = "";
  // The cron starts a job; its alarms plan and log the report.
  for (let i = 0; i < 600 && !text.includes("retention: done"); i++) {
    await sleep(100);
    text = await readFile(log, "utf8");
  }
  const planned = Number(text.match(/retention: plan: delete (\d+) of/)?.[1]);
  assert.ok(planned > 0, "the test policies plan deletions on the demo data");
  assert.equal(text.match(/retention: would delete /g)?.length, planned);
  assert.match(text, new RegExp(`retention: done \\(dry run\\): ${planned} would be deleted`));
  assert.ok(!/retention: deleted /.test(text), "a dry run deleted something");
  const after = (await inventory()).map((s) => s.snapshot.id).sort();
  assert.deepEqual(after, before);
});
