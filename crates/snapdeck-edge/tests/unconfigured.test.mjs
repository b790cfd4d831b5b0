// A worker deployed without its secrets fails closed: no proxying (503 saying which
// secret to set), no cleanup, while the app itself still loads.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";

const url = process.env.EDGE_UNCONFIGURED_URL;
const log = process.env.EDGE_UNCONFIGURED_LOG;
const skip = !url || !log ? "EDGE_UNCONFIGURED_URL is not set: run through scripts/edge-test" : false;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test("without its secrets the proxy and the jobs API refuse everyone with 503", { skip }, async () => {
  for (const headers of [{}, { authorization: "Bearer anything" }, { "x-snapdeck-token": "" }]) {
    const res = await fetch(`${url}/v1/devboxes`, { headers });
    assert.equal(res.status, 503);
    assert.match((await res.json()).message, /RUNLOOP_API_KEY/);
  }
  const jobs = await fetch(`${url}/_snapdeck/jobs`, { headers: { authorization: "Bearer anything" } });
  assert.equal(jobs.status, 503, "nor jobs");
  assert.match((await jobs.json()).message, /RUNLOOP_API_KEY/);
  const app = await fetch(`${url}/`);
  assert.equal(app.status, 200, "the app still loads");
});

test("without its secrets the cron does nothing and says why", { skip }, async () => {
  const res = await fetch(`${url}/__scheduled?cron=${encodeURIComponent("17 3 * * *")}`);
  assert.equal(res.status, 200);
  let text = "";
  for (let i = 0; i < 50 && !text.includes("retention: not run"); i++) {
    await sleep(100);
    text = await readFile(log, "utf8");
  }
  assert.match(text, /retention: not run: .*RUNLOOP_API_KEY/);
});
