// Conformance of snapdeck-server with Runloop's official TypeScript SDK
// (@runloop/api-client), which on Node speaks HTTP/2 with prior knowledge (h2c) to
// http:// origins by default. Same workflows as conformance.py; started by run.sh.
// Prints `ok - ...` / `not ok - ...` per check and `N passed, M failed` last.

import { pathToFileURL } from 'node:url';
import path from 'node:path';

const sdkDir = process.env.RUNLOOP_TS_SDK_DIR;
const mod = await import(
  pathToFileURL(path.join(sdkDir, 'node_modules/@runloop/api-client/index.mjs')).href
);
const Runloop = mod.default;
const client = new Runloop(); // RUNLOOP_BASE_URL and RUNLOOP_API_KEY from the environment
const sdkVersion = (await import(
  pathToFileURL(path.join(sdkDir, 'node_modules/@runloop/api-client/version.mjs')).href
)).VERSION;
console.log(`# @runloop/api-client ${sdkVersion} against ${process.env.RUNLOOP_BASE_URL}`);

const results = [];
const state = {};

async function check(name, fn) {
  try {
    await fn();
    results.push(true);
    console.log(`ok - ${name}`);
  } catch (e) {
    results.push(false);
    console.log(`not ok - ${name}`);
    console.log(e?.stack ?? e);
  }
}

function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

/** Expects `fn` to reject with `status` promptly: a deliberate refusal is not retried. */
async function expectStatus(status, fn, maxMs = 2000) {
  const started = Date.now();
  try {
    await fn();
  } catch (e) {
    assert(e?.status === status, `expected ${status}, got ${e?.status}: ${e}`);
    const took = Date.now() - started;
    assert(took < maxMs, `took ${took} ms: the SDK retried a deliberate refusal`);
    return e;
  }
  throw new Error(`expected ${status}`);
}

await check('createAndAwaitRunning brings a devbox to running', async () => {
  const dbx = await client.devboxes.createAndAwaitRunning({ name: 'ts-conformance' });
  assert(dbx.status === 'running', dbx.status);
  state.dbx = dbx.id;
});

await check('writeFileContents writes a file', async () => {
  const out = await client.devboxes.writeFileContents(state.dbx, {
    file_path: 'hello.txt',
    contents: 'version 1',
  });
  assert(out.exit_status === 0, JSON.stringify(out));
});

await check('snapshotDiskAsync and awaitCompleted', async () => {
  const snap = await client.devboxes.snapshotDiskAsync(state.dbx, {
    name: 'first',
    metadata: { env: 'test' },
  });
  assert(snap.id.startsWith('snp_'), snap.id);
  const done = await client.devboxes.diskSnapshots.awaitCompleted(snap.id);
  assert(done.status === 'complete', done.status);
  state.snap1 = snap.id;
});

await check('a devbox from the snapshot reads the file as it was', async () => {
  await client.devboxes.writeFileContents(state.dbx, { file_path: 'hello.txt', contents: 'version 2' });
  const restored = await client.devboxes.createAndAwaitRunning({ snapshot_id: state.snap1 });
  const text = await client.devboxes.readFileContents(restored.id, { file_path: 'hello.txt' });
  assert(text === 'version 1', JSON.stringify(text));
  state.restored = restored.id;
});

await check('diskSnapshots.list pages with a cursor', async () => {
  const second = await client.devboxes.snapshotDiskAsync(state.dbx, { name: 'second' });
  state.snap2 = second.id;
  const ids = [];
  for await (const s of client.devboxes.diskSnapshots.list({ devbox_id: state.dbx, limit: 1 })) {
    ids.push(s.id);
  }
  assert(JSON.stringify(ids) === JSON.stringify([state.snap2, state.snap1]), JSON.stringify(ids));
});

await check('delete and shutdown while a snapshot is in progress are prompt 409s', async () => {
  await expectStatus(409, () => client.devboxes.diskSnapshots.delete(state.snap2));
  await expectStatus(409, () => client.devboxes.shutdown(state.dbx));
});

await check('cleanup keeps the newest snapshot', async () => {
  await client.devboxes.diskSnapshots.awaitCompleted(state.snap2);
  await client.devboxes.diskSnapshots.delete(state.snap1);
  const status = await client.devboxes.diskSnapshots.queryStatus(state.snap1);
  assert(status.status === 'deleted', status.status);
  const page = await client.devboxes.diskSnapshots.list({ devbox_id: state.dbx });
  assert(page.snapshots.length === 1 && page.snapshots[0].id === state.snap2, 'one left');
});

await check('suspend, awaitSuspended, resume, awaitRunning', async () => {
  await client.devboxes.suspend(state.restored);
  const s = await client.devboxes.awaitSuspended(state.restored);
  assert(s.status === 'suspended', s.status);
  await client.devboxes.resume(state.restored);
  const r = await client.devboxes.awaitRunning(state.restored);
  assert(r.status === 'running', r.status);
});

await check('shutdown, and a 404 for an unknown devbox', async () => {
  const dbx = await client.devboxes.shutdown(state.dbx);
  assert(dbx.status === 'shutdown', dbx.status);
  await expectStatus(404, () => client.devboxes.retrieve('dbx_missing'));
});

await check('HTTP/1.1 (http2: false) works too', async () => {
  const h1 = new Runloop({ http2: false });
  const page = await h1.devboxes.list({ limit: 1 });
  assert(page.devboxes.length === 1, 'one devbox');
});

const passed = results.filter(Boolean).length;
const failed = results.length - passed;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
