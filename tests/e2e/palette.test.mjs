// The command palette (Ctrl-K) and the list keys: find a snapshot by a fragment of its
// id and restore it with the keyboard only (checked through the API); j/k/x/Shift+X/
// Enter on the snapshot list, Enter and `.` on the devbox list, x/Shift+X there and its
// "Snapshot selected" (through the tray, checked through the API); `?` lists the same
// shortcut table the palette reads; screenshots light/dark at 1280 and 360 px.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openApp, screenshot, snapshotOpRow, startServer } from './harness.mjs';

let server;
let browser;
let complete;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  for (const s of await server.api.snapshots('')) {
    const st = await server.api.get(`/v1/devboxes/disk_snapshots/${s.id}/status`);
    if (st.json?.status === 'complete' && s.name) { complete = s; break; }
  }
  assert.ok(complete, 'the demo seed has a complete, named snapshot');
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const combobox = (page) => page.getByRole('combobox');
const active = (page) => page.evaluate(() => {
  const id = document.querySelector('[role=combobox]')?.getAttribute('aria-activedescendant');
  const el = id && document.getElementById(id);
  return el ? { kind: el.dataset.kind, verb: el.dataset.verb, id: el.dataset.id, text: el.textContent } : null;
});

/** Presses ArrowDown until the active option satisfies `want` (at most `max` times). */
async function arrowTo(page, want, max = 60) {
  for (let i = 0; i < max; i += 1) {
    const a = await active(page);
    if (a && want(a)) return a;
    await page.keyboard.press('ArrowDown');
  }
  throw new Error(`no option matched; last: ${JSON.stringify(await active(page))}`);
}

test('the palette finds a snapshot by a fragment of its id and restores it, keyboard only', async () => {
  const { context, page, errors } = await openApp(browser, server.url, '/devboxes');
  await page.locator('[data-testid="devbox-row"]').first().waitFor();
  await page.keyboard.press('Control+k');
  const input = combobox(page);
  await input.waitFor();
  assert.equal(await input.evaluate((el) => el === document.activeElement), true, 'the input has focus');
  assert.equal(await input.getAttribute('aria-expanded'), 'true');
  assert.equal(await input.getAttribute('aria-controls'), 'sd-palette-list');
  assert.equal(await page.locator('#sd-palette-list').getAttribute('role'), 'listbox');

  // A fragment from the middle of the id, not its name.
  const fragment = complete.id.slice(6, 12);
  assert.ok(!complete.name.toLowerCase().includes(fragment.toLowerCase()));
  await page.keyboard.type(fragment);
  const option = page.locator(`[role=option][data-kind=snapshot][data-id="${complete.id}"][data-verb=open]`);
  await option.waitFor({ timeout: 10_000 });
  // Screen readers hear how many results there are.
  const count = await page.getByTestId('palette-count').textContent();
  assert.match(count, /^\d+ results?$/);
  assert.equal(Number(count.split(' ')[0]), await page.locator('[role=option]').count());

  await arrowTo(page, (a) => a.kind === 'snapshot' && a.id === complete.id && a.verb === 'open');
  // Its actions follow it: Restore and Fan out, in the Actions group.
  const actions = page.getByRole('group', { name: 'Actions' });
  await actions.getByRole('option', { name: `Restore ${complete.name}…` }).waitFor();
  await actions.getByRole('option', { name: `Fan out from ${complete.name}…` }).waitFor();
  await arrowTo(page, (a) => a.verb === 'restore' && a.id === complete.id);
  await page.keyboard.press('Enter');

  const dialog = page.getByRole('dialog', { name: `Restore “${complete.name}”` });
  await dialog.waitFor();
  const name = await dialog.getByLabel('New devbox name').inputValue();
  assert.equal(name, `restored-${complete.name}`);
  await page.keyboard.press('Enter');
  await dialog.waitFor({ state: 'detached' });

  let made;
  for (let i = 0; i < 50 && !made; i += 1) {
    made = (await server.api.devboxes()).find((d) => d.name === name);
    if (!made) await page.waitForTimeout(200);
  }
  assert.ok(made, 'the new devbox exists');
  assert.equal(made.snapshot_id, complete.id, 'started from that snapshot');

  // The snapshot is now recent (it was acted on): an empty palette lists it first.
  await page.keyboard.press('Control+k');
  await input.waitFor();
  const first = page.locator('[role=option]').first();
  assert.equal(await first.getAttribute('data-id'), complete.id);
  await page.keyboard.press('Escape');
  await input.waitFor({ state: 'detached' });
  assert.deepEqual(errors, []);
  await context.close();
});

test('a typed verb runs over matching items, and `.` repeats it on a focused row', async () => {
  const devboxes = await server.api.devboxes();
  const target = devboxes.find((d) => d.status === 'running' && d.name);
  const { context, page, errors } = await openApp(browser, server.url, '/devboxes');
  await page.locator('[data-testid="devbox-row"]').first().waitFor();
  await page.keyboard.press('Control+k');
  await combobox(page).waitFor();
  await page.keyboard.type(`snapshot ${target.name}`);
  const opt = page.locator(`[role=option][data-verb=snapshot][data-id="${target.id}"]`);
  await opt.waitFor();
  await arrowTo(page, (a) => a.verb === 'snapshot' && a.id === target.id);
  await page.keyboard.press('Enter');
  const snap = page.getByRole('dialog', { name: 'Take snapshot' });
  await snap.waitFor();
  // The name is prefilled from the devbox: `<devbox>-<yyyymmdd-hhmm>`.
  assert.ok((await snap.getByLabel('Name').inputValue()).startsWith(`${target.name}-`));
  await page.keyboard.press('Escape');
  await snap.waitFor({ state: 'detached' });

  // `.` on the second row: the same action for that row's devbox.
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('j');
  await page.keyboard.press('j');
  const row = await page.evaluate(() => document.activeElement?.dataset.id);
  const rowBox = devboxes.find((d) => d.id === row);
  assert.ok(rowBox, 'a devbox row has focus');
  await page.keyboard.press('.');
  await snap.waitFor();
  assert.ok((await snap.getByLabel('Name').inputValue()).startsWith(`${rowBox.name || rowBox.id}-`));
  await page.keyboard.press('Escape');
  await snap.waitFor({ state: 'detached' });

  // Enter opens the focused row.
  await page.keyboard.press('k');
  const up = await page.evaluate(() => document.activeElement?.dataset.id);
  assert.notEqual(up, row);
  await page.keyboard.press('Enter');
  await page.waitForURL(new RegExp(`/devboxes/${up}$`));
  assert.deepEqual(errors, []);
  await context.close();
});

test('j/k move a visible focus on the snapshot list, x and Shift+X select, Enter opens', async () => {
  const { context, page, errors } = await openApp(browser, server.url, '/snapshots');
  const rows = page.locator('[data-testid="snapshot-row"]');
  await rows.nth(3).waitFor();
  const focusedIndex = () => page.evaluate(() => [...document.querySelectorAll('[data-testid="snapshot-row"]')]
    .indexOf(document.activeElement));
  await page.keyboard.press('j');
  assert.equal(await focusedIndex(), 0);
  await page.keyboard.press('j');
  await page.keyboard.press('j');
  assert.equal(await focusedIndex(), 2);
  await page.keyboard.press('k');
  assert.equal(await focusedIndex(), 1);
  // The focus is drawn: an outline on the row.
  const outline = await rows.nth(1).evaluate((el) => getComputedStyle(el).outlineStyle);
  assert.equal(outline, 'solid');

  await page.keyboard.press('x');
  assert.equal(await rows.nth(1).getAttribute('aria-selected'), 'true');
  await page.keyboard.press('j');
  await page.keyboard.press('j');
  await page.keyboard.press('Shift+X');
  const selected = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('aria-selected')));
  assert.deepEqual(selected.slice(0, 5), ['false', 'true', 'true', 'true', 'false']);
  await page.getByTestId('selection-bar').getByText(/3/).first().waitFor();
  await screenshot(page, 'palette-list-keys-light');
  // x again on the focused row unselects it.
  await page.keyboard.press('x');
  assert.equal(await rows.nth(3).getAttribute('aria-selected'), 'false');

  const id = await rows.nth(3).getAttribute('data-id');
  await page.keyboard.press('Enter');
  await page.waitForURL(new RegExp(`/snapshots/${id}$`));
  assert.deepEqual(errors, []);
  await context.close();
});

test('x and Shift+X select on the devbox list, and Snapshot selected snapshots the running ones', async () => {
  const { context, page, errors } = await openApp(browser, server.url, '/devboxes');
  const rows = page.locator('[data-testid="devbox-row"]');
  await rows.nth(3).waitFor();
  const shown = await rows.evaluateAll((els) => els.map((e) => ({ id: e.dataset.id, status: e.dataset.status })));
  const start = shown.findIndex((d) => d.status === 'running');
  assert.ok(start >= 0 && start + 2 < shown.length, 'a running devbox with two rows after it');
  for (let i = 0; i <= start; i += 1) await page.keyboard.press('j');
  await page.keyboard.press('x');
  assert.equal(await rows.nth(start).getAttribute('aria-selected'), 'true');
  assert.equal(page.url().endsWith('/devboxes'), true, 'selecting opens nothing');
  await page.keyboard.press('j');
  await page.keyboard.press('j');
  await page.keyboard.press('Shift+X');
  const selected = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('aria-selected')));
  const want = shown.map((_, i) => String(i >= start && i <= start + 2));
  assert.deepEqual(selected, want);
  const bar = page.getByTestId('devbox-selection-bar');
  await bar.getByText('3 selected').waitFor();
  await screenshot(page, 'devboxes-selection-light');
  // x again on the focused row unselects it, and once more selects it.
  await page.keyboard.press('x');
  assert.equal(await rows.nth(start + 2).getAttribute('aria-selected'), 'false');
  await bar.getByText('2 selected').waitFor();
  await page.keyboard.press('x');
  assert.equal(await rows.nth(start + 2).getAttribute('aria-selected'), 'true');

  const picked = shown.slice(start, start + 3);
  const running = picked.filter((d) => d.status === 'running').map((d) => d.id);
  const before = await server.api.snapshots('');
  await bar.getByRole('button', { name: 'Snapshot selected…' }).click();
  const dialog = page.getByRole('dialog', { name: /^Snapshot \d+ devbox/ });
  await dialog.waitFor();
  const take = await dialog.locator('[data-testid="bulk-snapshot-take"]').evaluateAll(
    (els) => els.map((e) => ({ id: e.dataset.id, name: e.querySelector('.sd-mono').textContent })),
  );
  assert.deepEqual(take.map((t) => t.id), running, 'the running ones, in list order');
  const skipped = await dialog.locator('[data-testid="bulk-snapshot-skip"]').evaluateAll((els) => els.map((e) => e.dataset.id));
  assert.deepEqual(skipped, picked.filter((d) => d.status !== 'running').map((d) => d.id));
  await screenshot(page, 'devboxes-bulk-snapshot-light');
  // Enter confirms (the confirm button has focus).
  await page.keyboard.press('Enter');
  await dialog.waitFor({ state: 'detached' });
  await bar.waitFor({ state: 'detached' });
  for (const t of take) await snapshotOpRow(page, t.name).waitFor();
  let made = [];
  for (let i = 0; i < 50; i += 1) {
    const now = await server.api.snapshots('');
    made = now.filter((s) => !before.some((b) => b.id === s.id));
    if (made.length >= take.length) break;
    await page.waitForTimeout(200);
  }
  assert.deepEqual(
    made.map((s) => [s.source_devbox_id, s.name]).sort(),
    take.map((t) => [t.id, t.name]).sort(),
    'one snapshot of each running devbox, named as the dialog said',
  );
  assert.deepEqual(errors, []);
  await context.close();
});

test('`?` lists the shortcut table the palette reads', async () => {
  const { context, page, errors } = await openApp(browser, server.url, '/devboxes');
  await page.locator('[data-testid="devbox-row"]').first().waitFor();
  await page.keyboard.press('Control+k');
  await combobox(page).waitFor();
  const hints = await page.locator('.sd-palette__hint').allTextContents();
  assert.ok(hints.length >= 3, `palette hints: ${hints}`);
  // A page's "g x" keys in the palette come from the same table.
  await page.keyboard.type('snapshots');
  const keys = await page.locator('[role=option][data-kind=page]').filter({ hasText: 'Snapshots' }).locator('kbd').allTextContents();
  assert.deepEqual(keys, ['g', 's']);
  await page.keyboard.press('Escape');

  await page.keyboard.press('?');
  const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await help.waitFor();
  const text = (await help.textContent()).replace(/\s+/g, ' ');
  for (const h of hints) {
    const what = h.replace(/\s+/g, ' ').trim().split(' ').slice(-3).join(' ');
    assert.ok(text.includes(what), `help lists the palette's "${h}"`);
  }
  for (const what of ['Open the command palette', 'Move to the next row', 'Select the row',
    'Extend the selection from the last selected row', 'Open the row', 'Repeat the last palette action on the row']) {
    assert.ok(text.includes(what), `help lists "${what}"`);
  }
  assert.ok(text.includes('Ctrl+K') && text.includes('Shift+X'));
  // `/` (search) is a key cap of its own, not the "or" between alternatives.
  const search = help.locator('dt', { has: page.locator('kbd') }).filter({ hasText: '/' });
  assert.ok(await search.count() >= 1, 'the / key is shown as a key');
  assert.ok((await help.locator('kbd').allTextContents()).includes('/'));
  await screenshot(page, 'palette-help-light');
  assert.deepEqual(errors, []);
  await context.close();
});

test('screenshots of the open palette, light and dark, 1280 and 360 px', async () => {
  for (const colorScheme of ['light', 'dark']) {
    for (const width of [1280, 360]) {
      const { context, page, errors } = await openApp(browser, server.url, '/devboxes', {
        colorScheme, viewport: { width, height: width === 360 ? 740 : 800 },
      });
      await page.locator('[data-testid="devbox-row"]').first().waitFor();
      await page.keyboard.press('Control+k');
      await combobox(page).waitFor();
      await page.keyboard.type('ci');
      await page.locator('[role=option][data-kind=snapshot]').first().waitFor();
      await page.keyboard.press('ArrowDown');
      await page.waitForTimeout(150);
      await screenshot(page, `palette-${colorScheme}-${width}`);
      assert.deepEqual(errors, []);
      await context.close();
    }
  }
});
