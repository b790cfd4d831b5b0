// Security: pages of other origins cannot use the key-holding proxy or the emulator.
// A page served from another origin (another port) tries a fetch, a no-cors fetch and a
// plain form POST against a proxy (its Runloop key injected, caller token off, so only
// the origin rules stand in the way) and against the emulator: nothing is read, and the
// upstream shows nothing changed. A DNS-rebound name is refused. The embed demo served
// from an allowed origin still works through a proxy that asks for its token, and the
// token URL the server prints opens the dashboard with the token out of the address bar.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIST, apiClient, launchBrowser, screenshot, startServer } from './harness.mjs';
import { chromium } from 'playwright-core';

const UPSTREAM_KEY = 'upstream-secret-key';

let upstream; // the "Runloop API": an emulator that wants UPSTREAM_KEY
let openProxy; // key-injecting proxy behind a team's auth proxy (no caller token)
let tokenProxy; // key-injecting proxy with its caller token (the default)
let emulator; // emulator mode
let foreign; // the attacker's origin
let portal; // an allowed portal's origin
let browser;
let token;

/** A static page server on a free port of 127.0.0.1: `pages` maps paths to HTML. */
function pageServer(pages) {
  return new Promise((ok) => {
    const srv = createServer((req, res) => {
      const html = pages[new URL(req.url, 'http://x').pathname];
      res.writeHead(html ? 200 : 404, { 'content-type': 'text/html' });
      res.end(html ?? 'not found');
    });
    srv.listen(0, '127.0.0.1', () => {
      ok({ url: `http://127.0.0.1:${srv.address().port}`, close: () => srv.close() });
    });
  });
}

/** What the attacker's page does against `target`: read, no-cors delete, form delete. */
const attackPage = `<!doctype html><title>cat pictures</title>
<iframe name="sink"></iframe>
<script type="module">
  const p = new URLSearchParams(location.search);
  const target = p.get('target');
  const snap = p.get('snap');
  const out = {};
  try {
    const r = await fetch(target + '/v1/devboxes/disk_snapshots?limit=100');
    out.read = 'read:' + (await r.text()).slice(0, 200);
  } catch (e) { out.read = 'blocked'; }
  try {
    const r = await fetch(target + '/_emulator/faults');
    out.faults = 'read:' + (await r.text()).slice(0, 200);
  } catch (e) { out.faults = 'blocked'; }
  await fetch(target + '/v1/devboxes/disk_snapshots/' + snap + '/delete',
    { method: 'POST', mode: 'no-cors', body: '{}' }).catch(() => {});
  await fetch(target + '/_emulator/reset?seed=none', { method: 'POST', mode: 'no-cors' }).catch(() => {});
  const form = document.createElement('form');
  form.method = 'POST';
  form.enctype = 'text/plain';
  form.target = 'sink';
  form.action = target + '/v1/devboxes/disk_snapshots/' + snap + '/delete';
  const input = document.createElement('input');
  input.name = '{"x":"';
  input.value = '"}';
  form.append(input);
  document.body.append(form);
  const loaded = new Promise((r) => document.querySelector('iframe').addEventListener('load', r, { once: true }));
  form.submit();
  await loaded;
  window.attack = out;
</script>`;

before(async () => {
  upstream = await startServer(['--api-key', UPSTREAM_KEY]);
  foreign = await pageServer({ '/attack.html': attackPage });
  const portalHtml = readFileSync(join(DIST, 'demo', 'portal.html'), 'utf8')
    .replace('<link rel="stylesheet" href="portal.css" />', '')
    .replace("loader.src = '/snapdeck-embed.js';", 'loader.src = `${apiBase}/snapdeck-embed.js`;');
  portal = await pageServer({ '/portal.html': portalHtml });
  const proxyArgs = ['--upstream', upstream.url, '--upstream-api-key', UPSTREAM_KEY];
  openProxy = await startServer([...proxyArgs, '--no-caller-auth']);
  tokenProxy = await startServer([...proxyArgs, '--allowed-origin', portal.url]);
  emulator = await startServer([]);
  // The second line of the banner: the URL with the token.
  const printed = tokenProxy.log().match(/open (http:\/\/\S+\/\?token=(\w+))/);
  assert.ok(printed, `no token URL in:\n${tokenProxy.log()}`);
  token = printed[2];
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  for (const s of [tokenProxy, openProxy, emulator, upstream]) await s?.stop();
  foreign?.close();
  portal?.close();
});

/** The ids of every snapshot behind `server`, asked without any browser headers. */
async function snapshotIds(server, key) {
  return new Set((await apiClient(server.url, key).snapshots()).map((s) => s.id));
}

async function aCompleteSnapshot(server, key) {
  for (const s of await apiClient(server.url, key).snapshots()) {
    const st = await apiClient(server.url, key).get(`/v1/devboxes/disk_snapshots/${s.id}/status`);
    if (st.json?.status === 'complete') return s.id;
  }
  throw new Error('no complete snapshot');
}

for (const [name, target, data, key] of [
  ['the key-holding proxy', () => openProxy, () => upstream, UPSTREAM_KEY],
  ['the emulator', () => emulator, () => emulator, 'any-key'],
]) {
  test(`a page of another origin reads and changes nothing through ${name}`, async () => {
    const snap = await aCompleteSnapshot(data(), key);
    const before = await snapshotIds(data(), key);
    const context = await browser.newContext();
    const page = await context.newPage();
    const q = new URLSearchParams({ target: target().url, snap });
    await page.goto(`${foreign.url}/attack.html?${q}`);
    const out = await page.waitForFunction(() => window.attack).then((h) => h.jsonValue());
    assert.equal(out.read, 'blocked', 'the snapshot list must not be readable');
    assert.equal(out.faults, 'blocked');
    const after = await snapshotIds(data(), key);
    assert.deepEqual([...after].sort(), [...before].sort(), 'nothing deleted, nothing reset');
    assert.ok(after.has(snap));
    await screenshot(page, `security-attack-${name.replace(/\W+/g, '-')}`);
    await context.close();
  });
}

test('a DNS-rebound name is refused before any page or API answers', async () => {
  const port = new URL(emulator.url).port;
  const rebound = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--host-resolver-rules=MAP rebind.evil.example 127.0.0.1',
    ],
  });
  try {
    const page = await rebound.newPage();
    for (const path of ['/', '/v1/devboxes', '/_emulator/faults']) {
      const res = await page.goto(`http://rebind.evil.example:${port}${path}`);
      assert.equal(res.status(), 421, path);
      assert.match(await page.textContent('body'), /does not answer for host/);
    }
  } finally {
    await rebound.close();
  }
});

test('the embed demo on an allowed portal works through a proxy that asks for its token', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  const q = new URLSearchParams({ api: tokenProxy.url, token });
  await page.goto(`${portal.url}/portal.html?${q}`);
  const fleet = page.locator('#embed-devboxes');
  await fleet.getByRole('row').nth(3).waitFor({ timeout: 20_000 });
  assert.ok((await fleet.getByRole('row').count()) > 3, 'the fleet table lists devboxes');
  assert.deepEqual(errors, []);
  await screenshot(page, 'security-portal-allowed-origin');

  // The same portal page with a wrong token gets nothing.
  const wrong = await context.newPage();
  const denied = [];
  wrong.on('response', (r) => { if (r.url().includes('/v1/')) denied.push(r.status()); });
  await wrong.goto(`${portal.url}/portal.html?${new URLSearchParams({ api: tokenProxy.url, token: 'guess' })}`);
  await wrong.waitForTimeout(1500);
  assert.ok(denied.length > 0 && denied.every((s) => s === 401), `statuses ${denied}`);
  await context.close();
});

test('the printed token URL opens the dashboard and leaves the address bar clean', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const violations = [];
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) violations.push(m.text()); });
  const res = await page.goto(`${tokenProxy.url}/?token=${token}`);
  const csp = res.headers()['content-security-policy'];
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval' 'sha256-/);
  assert.match(csp, new RegExp(`frame-ancestors 'self' ${portal.url}`));
  assert.equal(res.headers()['x-content-type-options'], 'nosniff');
  await page.getByRole('row').nth(3).waitFor({ timeout: 20_000 });
  assert.ok(!page.url().includes('token='), `address still has the token: ${page.url()}`);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('snapdeck.api_key')), token);
  assert.equal(await page.evaluate(() => localStorage.getItem('snapdeck.api_key')), null);
  assert.deepEqual(violations, [], 'the app runs under its CSP');
  await screenshot(page, 'security-token-url-devboxes');

  // A new tab without the token is told what to do.
  const bare = await browser.newContext();
  const fresh = await bare.newPage();
  await fresh.goto(`${tokenProxy.url}/devboxes`);
  await fresh.getByTestId('health-banner').getByText(/asks for its access token/).waitFor({ timeout: 20_000 });
  await screenshot(fresh, 'security-token-missing');
  await bare.close();
  await context.close();
});
