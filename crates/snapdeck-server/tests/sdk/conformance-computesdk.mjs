// Conformance of snapdeck-server with @computesdk/runloop, an independent client built
// on the TS SDK's object layer (RunloopSDK, h2c): its sandbox (create, runCommand,
// filesystem over commands, getById, list, destroy), snapshot and template calls.
// Started by run.sh with RUNLOOP_BASE_URL / RUNLOOP_API_KEY and COMPUTESDK_DIR (the npm
// prefix it is installed in). Prints `ok - …` / `not ok - …` and `N passed, M failed`.

import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

const dir = process.env.COMPUTESDK_DIR;
const require = createRequire(path.join(dir, 'package.json'));
const { runloop } = await import(pathToFileURL(require.resolve('@computesdk/runloop')).href);
const version = JSON.parse(
  readFileSync(path.join(dir, 'node_modules/@computesdk/runloop/package.json'), 'utf8'),
).version;
console.log(`# @computesdk/runloop ${version} against ${process.env.RUNLOOP_BASE_URL}`);

const provider = runloop({ apiKey: process.env.RUNLOOP_API_KEY });
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

await check('sandbox.create boots a devbox (createAndAwaitRunning) with its keep-alive', async () => {
  const sandbox = await provider.sandbox.create({ name: 'computesdk', envs: { GREETING: 'hi' } });
  assert(sandbox.sandboxId.startsWith('dbx_'), sandbox.sandboxId);
  const info = await sandbox.getInfo();
  assert(info.status === 'running', info.status);
  assert(info.timeout === 1800 * 1000, `timeout ${info.timeout}`);
  state.sandbox = sandbox;
});

await check('runCommand: output, exit code, env and cwd options', async () => {
  const r = await state.sandbox.runCommand('echo $GREETING; echo oops >&2; exit 3');
  assert(r.stdout === 'hi\n' && r.stderr === 'oops\n' && r.exitCode === 3, JSON.stringify(r));
  // The env option is a prefix assignment (`A="x y" cmd`): the command's environment.
  const withOpts = await state.sandbox.runCommand('printenv A', { env: { A: 'x y' }, cwd: '/tmp' });
  assert(withOpts.stdout === 'x y\n', JSON.stringify(withOpts));
  const where = await state.sandbox.runCommand('pwd', { cwd: '/tmp' });
  assert(where.stdout === '/tmp\n', JSON.stringify(where));
  const missing = await state.sandbox.runCommand('python3 -V');
  assert(missing.exitCode === 127, JSON.stringify(missing));
});

await check('filesystem over commands: mkdir, writeFile (sh -c, base64), readFile, readdir, exists, remove', async () => {
  const fs = state.sandbox.filesystem;
  await fs.mkdir('/home/user/proj/src');
  await fs.writeFile('/home/user/proj/src/a.txt', 'héllo\nwörld\n');
  assert((await fs.readFile('/home/user/proj/src/a.txt')) === 'héllo\nwörld\n', 'round trip');
  const entries = await fs.readdir('/home/user/proj');
  assert(entries.some((e) => e.name === 'src' && e.type === 'directory'), JSON.stringify(entries));
  assert(await fs.exists('/home/user/proj/src/a.txt'), 'exists');
  await fs.remove('/home/user/proj');
  assert(!(await fs.exists('/home/user/proj/src/a.txt')), 'removed');
});

await check('snapshot.create, a sandbox from it restores the file, snapshot.list and delete', async () => {
  await state.sandbox.filesystem.writeFile('/home/user/f', 'v2\n');
  const snap = await provider.snapshot.create(state.sandbox.sandboxId, { name: 'computesdk-snap' });
  assert(snap.id.startsWith('snp_'), JSON.stringify(snap));
  await state.sandbox.filesystem.writeFile('/home/user/f', 'v3\n');
  const restored = await provider.sandbox.create({ snapshotId: snap.id });
  assert((await restored.filesystem.readFile('/home/user/f')) === 'v2\n', 'restored v2');
  const listed = await provider.snapshot.list({ limit: 10 });
  assert(listed.some((s) => s.id === snap.id), 'listed');
  await restored.destroy();
  await provider.snapshot.delete(snap.id);
  const after = await provider.snapshot.list({ limit: 10 });
  assert(!after.some((s) => s.id === snap.id), 'deleted');
});

await check('template (blueprint) create, list, a sandbox from it, delete', async () => {
  const bp = await provider.template.create({ name: 'computesdk-template', system_setup_commands: ['echo hi'] });
  assert(bp.id.startsWith('bpt_'), JSON.stringify(bp));
  let built = bp;
  for (let i = 0; i < 200 && built.status !== 'build_complete'; i++) {
    await new Promise((r) => setTimeout(r, 50));
    built = await state.sandbox.getInstance().client.api.blueprints.retrieve(bp.id);
  }
  assert(built.status === 'build_complete', built.status);
  const templates = await provider.template.list({ limit: 10 });
  assert(templates.some((t) => t.id === bp.id), 'listed');
  const fromTemplate = await provider.sandbox.create({ templateId: bp.id });
  assert((await fromTemplate.getInfo()).metadata.templateId === bp.id, 'from the template');
  await fromTemplate.destroy();
  await provider.template.delete(bp.id);
});

await check('sandbox.getById, list and destroy', async () => {
  const again = await provider.sandbox.getById(state.sandbox.sandboxId);
  assert(again && again.sandboxId === state.sandbox.sandboxId, 'getById');
  const all = await provider.sandbox.list();
  assert(all.some((s) => s.sandboxId === state.sandbox.sandboxId), 'list');
  await provider.sandbox.destroy(state.sandbox.sandboxId);
  const gone = await provider.sandbox.getById(state.sandbox.sandboxId);
  assert((await gone.getInfo()).status === 'shutdown', 'shut down');
  assert((await provider.sandbox.getById('dbx_missing')) === null, 'unknown id');
});

const passed = results.filter(Boolean).length;
const failed = results.length - passed;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
