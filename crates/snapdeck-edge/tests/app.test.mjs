// The real dashboard, in headless Chromium, served by the worker and talking to the
// Runloop API (snapdeck-server) only through it, with the portal access token where it
// asks for an API key. Needs playwright-core (tests/e2e's node_modules) and Chromium;
// skipped, saying why, when either is missing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createHash } from "node:crypto";
import { env, edge, upstreamJson } from "./helpers.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
// EDGE_PLAYWRIGHT: another checkout's playwright-core (a worktree has no node_modules).
const PLAYWRIGHT =
  process.env.EDGE_PLAYWRIGHT ?? path.join(ROOT, "tests", "e2e", "node_modules", "playwright-core", "index.mjs");
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const missing = !existsSync(PLAYWRIGHT)
  ? "playwright-core is not installed in tests/e2e"
  : !existsSync(CHROMIUM)
    ? `no Chromium at ${CHROMIUM}`
    : null;

test("the app lists devboxes through the worker, and the page never sees the key", { skip: missing ?? false }, async () => {
  const { chromium } = await import(pathToFileURL(PLAYWRIGHT).href);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  });
  try {
    const context = await browser.newContext();
    // Where the settings page keeps what the person typed as "API key".
    await context.addInitScript((token) => {
      window.sessionStorage.setItem("snapdeck.api_key", token);
    }, env.token);
    const page = await context.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(e));
    const seen = [];
    // Every response is read before the checks below; one still being read when the
    // page closes (a late poll) cannot be, and is not an error of the page's.
    const reading = [];
    let closed = false;
    page.on("response", (res) => {
      const read = (async () => {
        const body = await res.text().catch(() => "");
        seen.push({ url: res.url(), headers: await res.allHeaders(), body });
      })().catch((e) => {
        if (!closed) errors.push(e);
      });
      reading.push(read);
    });

    await page.goto(`${env.edgeUrl}/devboxes`);
    const rows = page.locator('[data-testid="devbox-row"]');
    await rows.first().waitFor({ timeout: 20_000 });
    const all = (await upstreamJson("/v1/devboxes?limit=5000")).devboxes;
    assert.equal(await rows.count(), Math.min(all.length, 50));
    await page.locator('[data-testid="api-target"][data-health="ok"]').waitFor();

    await Promise.all(reading);
    assert.ok(seen.some((r) => new URL(r.url).pathname.startsWith("/v1/")), "the app called /v1");
    for (const r of seen) {
      assert.ok(r.url.startsWith(env.edgeUrl), `the page went elsewhere: ${r.url}`);
      assert.ok(!r.body.includes(env.apiKey), `the key is in ${r.url}`);
      assert.ok(!JSON.stringify(r.headers).includes(env.apiKey), `the key is in headers of ${r.url}`);
    }
    const stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage, ...localStorage }));
    assert.ok(!stored.includes(env.apiKey), "the key is in the page's storage");
    assert.deepEqual(errors, []);
    closed = true;
    await context.close();
  } finally {
    await browser.close();
  }
});

test("the app's files carry security headers, and its page a CSP that allows its own loader", async () => {
  const page = await edge("/devboxes/dbx_deep_link");
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type"), /^text\/html/);
  assert.equal(page.headers.get("x-content-type-options"), "nosniff");
  assert.equal(page.headers.get("referrer-policy"), "strict-origin-when-cross-origin");
  const csp = page.headers.get("content-security-policy") ?? "";
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval' 'sha256-[A-Za-z0-9+/=]+'/);
  assert.match(csp, /object-src 'none'/);
  assert.match(csp, /frame-ancestors 'self' http:\/\/portal\.test/, "the allowed portal may embed it");
  // Trunk's inline loader is allowed by its hash, and nothing else inline is.
  const loader = page.text.match(/<script type="module">([\s\S]*?)<\/script>/)?.[1];
  assert.ok(loader, "the page has Trunk's inline loader");
  const hash = createHash("sha256").update(loader).digest("base64");
  assert.ok(csp.includes(`'sha256-${hash}'`), `the loader's hash is not in ${csp}`);
  assert.ok(!/script-src[^;]*'unsafe-inline'/.test(csp));

  const wasm = page.text.match(/href="(\/[^"]+_bg\.wasm)"/)?.[1];
  assert.ok(wasm, "the page preloads the app's wasm");
  const file = await edge(wasm);
  assert.equal(file.status, 200);
  assert.equal(file.headers.get("x-content-type-options"), "nosniff");
  assert.equal(file.headers.get("content-security-policy"), null, "only pages get a CSP");
});
