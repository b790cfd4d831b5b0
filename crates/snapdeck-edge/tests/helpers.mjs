// Shared by the edge tests: requests to the worker and to the upstream, recorded so a
// test can check that the API key never came back to a caller.
import { readFile } from "node:fs/promises";
import path from "node:path";
import assert from "node:assert/strict";

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run these tests through scripts/edge-test`);
  return value;
}

export const env = {
  edgeUrl: required("EDGE_URL"),
  upstreamUrl: required("UPSTREAM_URL"),
  apiKey: required("EDGE_API_KEY"),
  token: required("EDGE_ACCESS_TOKEN"),
  wranglerLog: required("EDGE_WRANGLER_LOG"),
  policiesFile: required("EDGE_POLICIES_FILE"),
  dist: required("SNAPDECK_DIST"),
  distIndex: () => readFile(path.join(env.dist, "index.html"), "utf8"),
};

/** Every response a test saw through the worker: status, headers and body text. */
const seen = [];

async function send(base, urlPath, init = {}) {
  const res = await fetch(base + urlPath, { redirect: "manual", ...init });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text };
}

/** A request to the worker; the response is recorded for `assertKeyNeverSeen`. */
export async function edge(urlPath, init) {
  const res = await send(env.edgeUrl, urlPath, init);
  seen.push({ where: `${init?.method ?? "GET"} ${urlPath}`, ...res });
  return res;
}

/** A request straight to snapdeck-server (the upstream), bypassing the worker. */
export function upstream(urlPath, init) {
  return send(env.upstreamUrl, urlPath, init);
}

/** The upstream with the API key: how the tests set up and inspect state. */
export async function upstreamJson(urlPath, init = {}) {
  const res = await upstream(urlPath, {
    ...init,
    headers: {
      authorization: `Bearer ${env.apiKey}`,
      "content-type": "application/json",
      ...init.headers,
    },
  });
  assert.ok(res.status < 300, `${init.method ?? "GET"} ${urlPath}: ${res.status} ${res.text}`);
  return JSON.parse(res.text);
}

export function assertKeyNeverSeen() {
  assert.ok(seen.length > 0, "no responses recorded");
  for (const res of seen) {
    assert.ok(!res.text.includes(env.apiKey), `the key is in the body of ${res.where}`);
    for (const [name, value] of res.headers) {
      assert.ok(!value.includes(env.apiKey), `the key is in header ${name} of ${res.where}`);
    }
  }
}

export function readWranglerLog() {
  return readFile(env.wranglerLog, "utf8");
}

/** Every snapshot (all pages) with its status, straight from the emulator. */
export async function inventory() {
  const snapshots = [];
  let after = null;
  for (;;) {
    const q = new URLSearchParams({ limit: "100" });
    if (after) q.set("starting_after", after);
    const page = await upstreamJson(`/v1/devboxes/disk_snapshots?${q}`);
    snapshots.push(...page.snapshots);
    if (!page.has_more || page.snapshots.length === 0) break;
    after = page.snapshots.at(-1).id;
  }
  const out = [];
  for (const snapshot of snapshots) {
    const { status } = await upstreamJson(`/v1/devboxes/disk_snapshots/${snapshot.id}/status`);
    out.push({ snapshot, status });
  }
  return out;
}
