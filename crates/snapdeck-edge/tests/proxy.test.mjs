// The edge worker's HTTP side, under wrangler dev, against snapdeck-server as upstream:
// the app loads, /v1 is proxied with the key injected, and nobody without the portal
// token or from a foreign origin gets through. Run by scripts/edge-test.
import { test } from "node:test";
import assert from "node:assert/strict";
import { edge, upstream, env, assertKeyNeverSeen, readWranglerLog } from "./helpers.mjs";

const bearer = { authorization: `Bearer ${env.token}` };

test("the app's index.html loads through the worker", async () => {
  const res = await edge("/");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /text\/html/);
  const index = await env.distIndex();
  assert.equal(res.text, index, "the worker serves dist/index.html as built");
});

test("the app's scripts and wasm load through the worker", async () => {
  const index = await env.distIndex();
  const assets = [...index.matchAll(/(?:href|src|module_or_path:)\s*=?\s*['"](\/[^'"]+\.(?:js|wasm|css))['"]/g)]
    .map((m) => m[1]);
  assert.ok(assets.some((a) => a.endsWith(".wasm")), `no wasm referenced in index.html: ${assets}`);
  for (const asset of new Set(assets)) {
    const res = await edge(asset);
    assert.equal(res.status, 200, asset);
    if (asset.endsWith(".wasm")) {
      assert.equal(res.headers.get("content-type"), "application/wasm");
    }
  }
});

test("/healthz tells the app it talks to a proxy, without a token", async () => {
  const res = await edge("/healthz");
  assert.equal(res.status, 200);
  assert.equal(JSON.parse(res.text).mode, "proxy");
});

test("a deep link into the app also loads index.html", async () => {
  const res = await edge("/devboxes/some-devbox", { headers: { accept: "text/html" } });
  assert.equal(res.status, 200);
  assert.equal(res.text, await env.distIndex());
});

test("/v1/devboxes works through the proxy with the access token as Bearer", async () => {
  const res = await edge("/v1/devboxes?limit=5", { headers: bearer });
  assert.equal(res.status, 200, res.text);
  const body = JSON.parse(res.text);
  assert.ok(Array.isArray(body.devboxes), "a DevboxListView");
  assert.equal(res.headers.get("cache-control"), "no-store");
});

test("the x-snapdeck-token header works instead of Authorization", async () => {
  const res = await edge("/v1/devboxes/disk_snapshots", {
    headers: { "x-snapdeck-token": env.token },
  });
  assert.equal(res.status, 200, res.text);
  assert.ok(Array.isArray(JSON.parse(res.text).snapshots));
});

test("POST bodies reach the upstream intact", async () => {
  const name = `edge-proxy-${Date.now()}`;
  const res = await edge("/v1/devboxes", {
    method: "POST",
    headers: { ...bearer, "content-type": "application/json" },
    body: JSON.stringify({ name, metadata: { via: "edge" } }),
  });
  assert.equal(res.status, 200, res.text);
  const created = JSON.parse(res.text);
  assert.equal(created.name, name);
  assert.equal(created.metadata.via, "edge");
});

test("the key is what the upstream needs: it refuses the browser's token and no key", async () => {
  // snapdeck-server runs with --api-key: the proxied calls above passing proves the
  // worker sent the key; these prove nothing else would have worked.
  assert.equal((await upstream("/v1/devboxes")).status, 401);
  assert.equal((await upstream("/v1/devboxes", { headers: bearer })).status, 401);
  assert.equal(
    (await upstream("/v1/devboxes", { headers: { authorization: `Bearer ${env.apiKey}` } })).status,
    200,
  );
});

test("a request without the access token gets 401 with a JSON message", async () => {
  const res = await edge("/v1/devboxes");
  assert.equal(res.status, 401);
  assert.match(res.headers.get("content-type") ?? "", /application\/json/);
  assert.equal(typeof JSON.parse(res.text).message, "string");
});

test("a wrong token, or the Runloop key itself, gets 401", async () => {
  for (const token of ["not-the-token", env.apiKey, ""]) {
    const res = await edge("/v1/devboxes", { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 401, `token ${token === env.apiKey ? "<api key>" : token}`);
    assert.equal(typeof JSON.parse(res.text).message, "string");
  }
});

test("a request from a disallowed Origin is refused even with the token", async () => {
  for (const method of ["GET", "POST"]) {
    const res = await edge("/v1/devboxes", {
      method,
      headers: { ...bearer, origin: "https://evil.example", "content-type": "application/json" },
      body: method === "POST" ? "{}" : undefined,
    });
    assert.ok([401, 403].includes(res.status), `${method}: ${res.status}`);
    assert.match(JSON.parse(res.text).message, /origin/);
    assert.equal(res.headers.get("access-control-allow-origin"), null);
  }
  const preflight = await edge("/v1/devboxes", {
    method: "OPTIONS",
    headers: { origin: "https://evil.example", "access-control-request-method": "GET" },
  });
  assert.equal(preflight.status, 403);
});

test("same-origin and allowed-origin pages are let through, with CORS for the latter", async () => {
  const same = await edge("/v1/devboxes", { headers: { ...bearer, origin: env.edgeUrl } });
  assert.equal(same.status, 200, same.text);
  const portal = await edge("/v1/devboxes", { headers: { ...bearer, origin: "http://portal.test" } });
  assert.equal(portal.status, 200, portal.text);
  assert.equal(portal.headers.get("access-control-allow-origin"), "http://portal.test");
  const preflight = await edge("/v1/devboxes", {
    method: "OPTIONS",
    headers: {
      origin: "http://portal.test",
      "access-control-request-method": "POST",
      "access-control-request-headers": "authorization, content-type",
    },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get("access-control-allow-origin"), "http://portal.test");
  assert.match(preflight.headers.get("access-control-allow-headers") ?? "", /authorization/);
});

test("a repeated x-request-id reaches the upstream: the retried POST is one operation", async () => {
  const init = {
    method: "POST",
    headers: { ...bearer, "content-type": "application/json", "x-request-id": `edge-${Date.now()}` },
    body: JSON.stringify({ name: "edge-idempotent" }),
  };
  const first = await edge("/v1/devboxes", init);
  const again = await edge("/v1/devboxes", init);
  assert.equal(first.status, 200, first.text);
  assert.equal(JSON.parse(again.text).id, JSON.parse(first.text).id);
});

test("a 429 comes back with its Retry-After, so the client can honour it", async () => {
  const faults = (patch) =>
    fetch(`${env.upstreamUrl}/_emulator/faults`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(patch),
    }).then((r) => assert.equal(r.status, 200));
  await faults({ fault_429_rate: 1.0, fault_retry_after_s: 7 });
  try {
    const res = await edge("/v1/devboxes", { headers: bearer });
    assert.equal(res.status, 429);
    assert.equal(res.headers.get("retry-after"), "7");
  } finally {
    await faults({ fault_429_rate: 0.0 });
  }
});

test("upstream errors come back as the upstream sent them", async () => {
  const res = await edge("/v1/devboxes/disk_snapshots/no-such-snapshot/status", { headers: bearer });
  assert.equal(res.status, 404);
  assert.equal(typeof JSON.parse(res.text).message, "string");
});

test("the key never came back in any response body or header, nor in the log", async () => {
  assertKeyNeverSeen();
  assert.ok(!(await readWranglerLog()).includes(env.apiKey), "the key is in the wrangler log");
});

test("a cross-site browser request without Origin is refused; a portal reads why its token failed", async () => {
  for (const site of ["cross-site", "same-site"]) {
    const res = await edge("/v1/devboxes", { headers: { ...bearer, "sec-fetch-site": site } });
    assert.equal(res.status, 403, site);
    assert.equal(res.headers.get("access-control-allow-origin"), null);
  }
  const ok = await edge("/v1/devboxes", { headers: { ...bearer, "sec-fetch-site": "same-origin" } });
  assert.equal(ok.status, 200, ok.text);
  const portal = await edge("/v1/devboxes", { headers: { origin: "http://portal.test" } });
  assert.equal(portal.status, 401);
  assert.equal(portal.headers.get("access-control-allow-origin"), "http://portal.test");
  assert.match(JSON.parse(portal.text).message, /token/);
});
