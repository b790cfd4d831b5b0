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

const { toFile } = mod;
// The object layer is its own entry point of the package.
const { RunloopSDK } = await import(
  pathToFileURL(path.join(sdkDir, 'node_modules/@runloop/api-client/sdk.mjs')).href
);
const control = async (p, body) => {
  const r = await fetch(process.env.RUNLOOP_BASE_URL + p, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return r.json();
};

await check('executeSync and executeAndAwaitCompletion run commands on the emulated disk', async () => {
  const dbx = await client.devboxes.createAndAwaitRunning({ name: 'ts-commands' });
  state.cmd = dbx.id;
  const out = await client.devboxes.executeSync(dbx.id, { command: 'echo v2 > f.txt && cat f.txt; echo warn >&2' });
  assert(out.exit_status === 0 && out.stdout === 'v2\n' && out.stderr === 'warn\n', JSON.stringify(out));
  const text = await client.devboxes.readFileContents(dbx.id, { file_path: 'f.txt' });
  assert(text === 'v2\n', JSON.stringify(text));
  const done = await client.devboxes.executeAndAwaitCompletion(dbx.id, { command: "printf 'b\\na\\n' | sort; exit 4" });
  assert(done.status === 'completed' && done.exit_status === 4 && done.stdout === 'a\nb\n', JSON.stringify(done));
  const missing = await client.devboxes.executeSync(dbx.id, { command: 'node -v' });
  assert(missing.exit_status === 127 && missing.stderr.startsWith('command not found: node'), JSON.stringify(missing));
});

await check('executions: executeAsync, awaitCompleted, retrieve with last_n, kill', async () => {
  const ex = await client.devboxes.executeAsync(state.cmd, { command: 'seq 1 150' });
  const done = await client.devboxes.executions.awaitCompleted(state.cmd, ex.execution_id);
  assert(done.status === 'completed' && done.stdout_truncated === true, JSON.stringify(done).slice(0, 200));
  const five = await client.devboxes.executions.retrieve(state.cmd, ex.execution_id, { last_n: '5' });
  assert(five.stdout === '146\n147\n148\n149\n150\n', JSON.stringify(five.stdout));
  const slow = await client.devboxes.executeAsync(state.cmd, { command: 'sleep 30' });
  const killed = await client.devboxes.executions.kill(state.cmd, slow.execution_id);
  assert(killed.exit_status === 137, JSON.stringify(killed));
});

await check('uploadFile (multipart) and downloadFile round-trip bytes; logs; blueprint logs; listPublic', async () => {
  const bytes = new Uint8Array([0, 1, 2, 255, 10]);
  await client.devboxes.uploadFile(state.cmd, { path: 'up/blob.bin', file: await toFile(bytes, 'blob.bin') });
  const res = await client.devboxes.downloadFile(state.cmd, { path: 'up/blob.bin' });
  const got = new Uint8Array(await res.arrayBuffer());
  assert(got.length === 5 && got[3] === 255, `${got}`);
  const logs = await client.devboxes.logs.list(state.cmd);
  assert(logs.logs.some((l) => l.source === 'exec' && l.message === 'v2'), 'exec lines');
  const bp = await client.blueprints.createAndAwaitBuildCompleted({ name: 'ts-bp', system_setup_commands: ['echo hi'] });
  const bpLogs = await client.blueprints.logs(bp.id);
  assert(bpLogs.logs.at(-1).message === 'Build complete', JSON.stringify(bpLogs.logs.at(-1)));
  const pub = await client.blueprints.listPublic();
  assert(pub.blueprints.length === 0, 'no public blueprints');
});

await check('a boot made to fail rejects awaitRunning; keep-alive shuts down on the emulator clock', async () => {
  await control('/_emulator/faults', { fail_next_boots: 1 });
  let threw = false;
  try {
    await client.devboxes.createAndAwaitRunning({ name: 'ts-doomed' });
  } catch (e) {
    threw = /failure/.test(String(e?.message ?? e));
  }
  assert(threw, 'createAndAwaitRunning should reject a failed boot');
  const dbx = await client.devboxes.createAndAwaitRunning({ launch_parameters: { keep_alive_time_seconds: 60 } });
  await control('/_emulator/clock', { advance_seconds: 61 });
  const gone = await client.devboxes.retrieve(dbx.id);
  assert(gone.status === 'shutdown' && gone.shutdown_reason === 'keep_alive_timeout', JSON.stringify(gone));
});

await check('object layer: RunloopSDK devbox, cmd.exec with callbacks, named shell, execAsync/kill, files, snapshot, restore', async () => {
  const sdk = new RunloopSDK();
  const devbox = await sdk.devbox.create({ name: 'ts-oo' });
  const lines = [];
  const result = await devbox.cmd.exec('echo one; echo two', { stdout: (l) => lines.push(l) });
  assert(result.exitCode === 0, `exit ${result.exitCode}`);
  assert((await result.stdout()) === 'one\ntwo\n', JSON.stringify(await result.stdout()));
  assert(lines.join('') === 'one\ntwo\n', JSON.stringify(lines));
  const shell = devbox.shell('ts-shell');
  await shell.exec('mkdir -p /srv/app && cd /srv/app && export MODE=prod');
  const where = await shell.exec('pwd; echo $MODE');
  assert((await where.stdout()) === '/srv/app\nprod\n', JSON.stringify(await where.stdout()));
  const execution = await devbox.cmd.execAsync('sleep 30');
  await execution.kill();
  assert((await execution.result()).exitCode === 137, 'killed');
  await devbox.file.write({ file_path: 'oo.txt', contents: 'object layer' });
  await devbox.file.upload({ path: 'oo.bin', file: await toFile(new Uint8Array([7, 8]), 'oo.bin') });
  const dl = await devbox.file.download({ path: 'oo.bin' });
  assert(new Uint8Array(await dl.arrayBuffer())[1] === 8, 'download');
  await devbox.cmd.exec('echo v2 > f');
  const snapshot = await devbox.snapshotDisk({ name: 'ts-oo-snapshot' });
  const clone = await snapshot.createDevbox({ name: 'ts-oo-clone' });
  assert((await (await clone.cmd.exec('cat f')).stdout()) === 'v2\n', 'restored v2');
  assert((await clone.file.read({ file_path: 'oo.txt' })) === 'object layer', 'restored file');
  const logs = await devbox.logs();
  assert(logs.logs.some((l) => l.source === 'exec'), 'logs');
  const blueprint = await sdk.blueprint.create({ name: 'ts-oo-bp', dockerfile: 'FROM ubuntu:24.04' });
  assert((await blueprint.logs()).logs.at(-1).message === 'Build complete', 'blueprint logs');
  await clone.shutdown();
  await devbox.shutdown();
});

const passed = results.filter(Boolean).length;
const failed = results.length - passed;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
