// Shared e2e plumbing: start snapdeck-server on a free port, launch the system
// Chromium through playwright-core, open the app with a key, and save screenshots.
//
// Every test file starts its own server (ephemeral, demo seed, short durations) so
// files can run in parallel and never see each other's data.

import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SERVER_BIN =
  process.env.SNAPDECK_SERVER_BIN || join(ROOT, 'target', 'debug', 'snapdeck-server');
export const DIST = process.env.SNAPDECK_DIST || join(ROOT, 'dist');
export const SCREENSHOTS = join(ROOT, 'artifacts', 'screenshots');
export const KEY = 'e2e-key';

/**
 * Starts snapdeck-server and resolves with `{ url, stop, api }` once it prints the
 * bound URL. `args` are extra flags (e.g. `['--api-key', 'k']`).
 */
export async function startServer(args = []) {
  // Short lifecycles by default; a test may pass its own.
  const defaults = { '--snapshot-duration-ms': '1500', '--boot-duration-ms': '1000' };
  const argv = ['--listen', '127.0.0.1:0', '--ephemeral', '--seed', 'demo', '--dist', DIST];
  for (const [flag, value] of Object.entries(defaults)) {
    if (!args.includes(flag)) argv.push(flag, value);
  }
  argv.push(...args);
  const proc = spawn(SERVER_BIN, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const url = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`server did not start:\n${log}`)), 20_000);
    const onData = (buf) => {
      log += buf.toString();
      const m = log.match(/listening on (http:\/\/[^\s]+)/);
      if (m) {
        clearTimeout(timer);
        ok(m[1].replace(/\/$/, ''));
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', (b) => { log += b.toString(); });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`server exited with ${code}:\n${log}`));
    });
  });
  const stop = async () => {
    if (proc.exitCode !== null) return;
    const done = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
    await done;
    clearTimeout(t);
  };
  return { url, stop, api: apiClient(url), log: () => log };
}

/** A tiny fetch wrapper for checking state behind the UI's back. */
export function apiClient(url, key = KEY) {
  const call = async (method, path, body) => {
    const res = await fetch(url + path, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let json;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: res.status, json, text };
  };
  return {
    get: (path) => call('GET', path),
    post: (path, body) => call('POST', path, body),
    /** Every devbox, all pages. */
    async devboxes() {
      const r = await call('GET', '/v1/devboxes?limit=5000');
      return r.json.devboxes;
    },
    async snapshots(query = '') {
      const r = await call('GET', `/v1/devboxes/disk_snapshots?limit=5000${query}`);
      return r.json.snapshots;
    },
    faults: (patch) => fetch(`${url}/_emulator/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(patch),
    }).then((r) => r.json()),
  };
}

/** Launches the system Chromium, headless. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

/**
 * Opens a fresh context (own storage) with the API key in sessionStorage, as the
 * settings page would store it. `key: null` opens without a key; `undoSeconds` sets
 * the undo window (0 unless given; `null`: the app's default); `tabOnly: true` hides
 * the server's jobs from the app (it then works in the tab, as in direct mode).
 */
export async function openApp(browser, url, path = '/', opts = {}) {
  const {
    colorScheme = 'light', key = KEY, viewport = { width: 1280, height: 800 }, undoSeconds = 0,
    tabOnly = false,
  } = opts;
  const context = await browser.newContext({ colorScheme, viewport });
  // The app hands heavy work to the server's jobs when /healthz offers them; `tabOnly`
  // hides them, so the tab does the work itself as in direct mode.
  if (tabOnly) {
    await context.route('**/healthz', async (route) => {
      const resp = await route.fetch();
      const body = await resp.json();
      await route.fulfill({ response: resp, json: { ...body, jobs: { available: false } } });
    });
  }
  // Deletes wait out an undo window (Settings, 10 s by default). Tests of other things
  // turn it off, as a person may in Settings; `undoSeconds: null` keeps the default.
  if (undoSeconds !== null) {
    await context.addInitScript((secs) => {
      if (!window.localStorage.getItem('snapdeck.settings')) {
        window.localStorage.setItem('snapdeck.settings', JSON.stringify({ undo_seconds: secs }));
      }
    }, undoSeconds);
  }
  if (key !== null) {
    await context.addInitScript((k) => {
      if (!window.sessionStorage.getItem('snapdeck.api_key')) {
        window.sessionStorage.setItem('snapdeck.api_key', k);
      }
    }, key);
  }
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  await page.goto(url + path);
  return { context, page, errors };
}

/** Saves a full-page screenshot as artifacts/screenshots/<name>.png. */
export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Screenshots the current URL in light and dark (same storage, new contexts). */
export async function screenshotBoth(browser, url, path, name, ready) {
  for (const colorScheme of ['light', 'dark']) {
    const { context, page } = await openApp(browser, url, path, { colorScheme });
    await ready(page);
    await screenshot(page, `${name}-${colorScheme}`);
    await context.close();
  }
}

/** Takes a snapshot named `name` from a devbox page's Snapshot button (the dialog closes). */
export async function takeSnapshot(page, name) {
  await page.getByRole('button', { name: 'Snapshot', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Take snapshot' });
  await dialog.getByLabel('Name').fill(name);
  await dialog.getByLabel('Name').press('Enter');
  await dialog.waitFor({ state: 'detached' });
}

/** The operations tray's row of the snapshot named `name`. */
export const snapshotOpRow = (page, name) =>
  page.locator('[data-testid="op-row"]').filter({ hasText: `Snapshot “${name}”` });
