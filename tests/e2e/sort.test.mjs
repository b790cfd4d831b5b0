// Workflow: sortable columns on the snapshot and devbox lists. A header click sorts
// the whole filtered list before paging, the URL carries `?sort=` (page reset, other
// filters kept, reload keeps it), the active header says its direction (aria-sort and
// an arrow), Enter on a focused header works, and shift-click ranges follow the order
// on screen — also when the sort changed between the two clicks.
//
// Expected orders are computed here from the API's data with the same rules the app
// documents: the column in its direction, ties newest first, then by id (descending).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, openApp, screenshot, startServer } from './harness.mjs';

let server;
let browser;

/** The extra snapshots: enough for two pages, names out of creation order. */
const EXTRA = 40;

const MOVING = ['queued', 'scheduled', 'provisioning', 'initializing', 'suspending', 'resuming'];
const LIFECYCLE = [
  'scheduled', 'queued', 'provisioning', 'initializing', 'running',
  'suspending', 'suspended', 'resuming', 'failure', 'shutdown',
];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  const devboxes = await server.api.devboxes();
  const ci = devboxes.find((d) => d.name === 'ci-warm-cache');
  assert.ok(ci, 'the demo seed has ci-warm-cache');
  // Named `load-NN` with NN a permutation of the creation order, every tenth unnamed
  // and some in capitals, so name order, creation order and size order all differ.
  for (let i = 0; i < EXTRA; i++) {
    const n = String((i * 7) % EXTRA).padStart(2, '0');
    const body = i % 10 === 3 ? {} : { name: i % 4 === 1 ? `LOAD-${n}` : `load-${n}` };
    const r = await server.api.post(`/v1/devboxes/${ci.id}/snapshot_disk_async`, body);
    assert.equal(r.status, 200, r.text);
  }
  // Wait until nothing is in progress: sizes (and so the size order) are final, and
  // devbox statuses stop moving.
  for (let i = 0; i < 100; i++) {
    const sizeless = (await server.api.snapshots()).filter((s) => s.size_bytes == null);
    const states = await Promise.all(
      sizeless.map((s) => server.api.get(`/v1/devboxes/disk_snapshots/${s.id}/status`)),
    );
    const busy = states.some((r) => r.json?.status === 'in_progress');
    const moving = (await server.api.devboxes()).some((d) => MOVING.includes(d.status));
    if (!busy && !moving) return;
    await sleep(200);
  }
  assert.fail('snapshots and devboxes did not settle');
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// ---- the expected orders ----

const cmpText = (a, b) => {
  const [x, y] = [a.toLowerCase(), b.toLowerCase()];
  return x < y ? -1 : x > y ? 1 : 0;
};
/** Named first (case-insensitive), unnamed after. */
const cmpNames = (a, b) => (a && b ? cmpText(a, b) : a ? -1 : b ? 1 : 0);
const newestThenId = (a, b) =>
  b.create_time_ms - a.create_time_ms || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
/** `list` sorted by `cmp` (ascending), reversed when `desc`, ties newest first then id. */
const sortBy = (list, cmp, desc) =>
  [...list].sort((a, b) => (desc ? -cmp(a, b) : cmp(a, b)) || newestThenId(a, b));

function snapshotOrder(list, sort, devboxes) {
  const desc = sort.startsWith('-');
  const key = sort.replace(/^-/, '');
  const label = (s) => devboxes.find((d) => d.id === s.source_devbox_id)?.name || s.source_devbox_id;
  const cmp = {
    name: (a, b) => cmpNames(a.name, b.name),
    created: (a, b) => a.create_time_ms - b.create_time_ms,
    size: (a, b) => (a.size_bytes ?? -1) - (b.size_bytes ?? -1),
    devbox: (a, b) => cmpText(label(a), label(b)),
  }[key];
  return sortBy(list, cmp, desc).map((s) => s.id);
}

function devboxOrder(list, sort) {
  const desc = sort.startsWith('-');
  const key = sort.replace(/^-/, '');
  const cmp = {
    name: (a, b) => cmpNames(a.name, b.name),
    status: (a, b) => LIFECYCLE.indexOf(a.status) - LIFECYCLE.indexOf(b.status),
    created: (a, b) => a.create_time_ms - b.create_time_ms,
  }[key];
  return sortBy(list, cmp, desc).map((d) => d.id);
}

// ---- page helpers ----

const snapRows = (page) => page.locator('[data-testid="snapshot-row"]');
const boxRows = (page) => page.locator('[data-testid="devbox-row"]');
const ids = (rows) => rows.evaluateAll((els) => els.map((e) => e.dataset.id));
const header = (page, label) =>
  page.locator('thead th').filter({ has: page.getByRole('link', { name: label, exact: true }) });
const sortParam = (page) => new URL(page.url()).searchParams.get('sort');

/** Waits until the rows on screen are exactly `want` (ids, in order). */
async function waitForIds(page, testid, want) {
  try {
    await page.waitForFunction(
      ([t, w]) => {
        const got = [...document.querySelectorAll(`[data-testid="${t}"]`)].map((e) => e.dataset.id);
        return got.length === w.length && got.every((id, i) => id === w[i]);
      },
      [testid, want],
      { timeout: 5000 },
    );
  } catch {
    // Say what differs rather than "timeout".
    assert.deepEqual(await ids(page.locator(`[data-testid="${testid}"]`)), want);
  }
}

/** The aria-sort of every sortable header, by its label. */
async function ariaSorts(page) {
  return page.locator('thead th[aria-sort]').evaluateAll((ths) =>
    Object.fromEntries(ths.map((th) => [th.textContent.trim(), th.getAttribute('aria-sort')])),
  );
}

/** Clicks a header and waits for the URL's sort to become `want` (null = default). */
async function clickSort(page, label, want, how = 'click') {
  const link = page.getByRole('link', { name: label, exact: true });
  if (how === 'enter') {
    await link.focus();
    await page.keyboard.press('Enter');
  } else {
    await link.click();
  }
  await page.waitForURL((u) => u.searchParams.get('sort') === want);
}

test('snapshot headers sort the whole list before paging, in the URL, and survive a reload', async () => {
  const [all, devboxes] = [await server.api.snapshots(), await server.api.devboxes()];
  assert.ok(all.length > 50, `two pages of snapshots (${all.length})`);
  const { context, page, errors } = await openApp(browser, server.url, '/snapshots');
  await snapRows(page).first().waitFor();

  // Default: newest first, said by the Created header.
  await waitForIds(page, 'snapshot-row', snapshotOrder(all, '-created', devboxes).slice(0, 50));
  assert.deepEqual(await ariaSorts(page), {
    Name: 'none', Devbox: 'none', Created: 'descending', Size: 'none',
  });
  assert.ok(await header(page, 'Created').locator('svg').isVisible(), 'an arrow on the active column');
  assert.ok(!(await header(page, 'Name').locator('svg').isVisible()), 'none on the others');

  // From page 2, a header click goes back to page 1 of the new order.
  await page.getByRole('link', { name: 'Next →' }).click();
  await page.waitForURL((u) => u.searchParams.get('page') === '2');
  await clickSort(page, 'Name', 'name');
  assert.equal(new URL(page.url()).searchParams.get('page'), null, 'back to page 1');
  const byName = snapshotOrder(all, 'name', devboxes);
  await waitForIds(page, 'snapshot-row', byName.slice(0, 50));
  const names = await snapRows(page).locator('.sd-cell-name').allInnerTexts();
  const shown = names.map((n) => (n.trim() === '(unnamed)' ? null : n.trim()));
  assert.deepEqual(shown, [...shown].sort(cmpNames), 'names read from the table are in order');
  assert.equal((await ariaSorts(page)).Name, 'ascending');
  assert.equal((await ariaSorts(page)).Created, 'none');

  // Page 2 continues the same order: the sort ran before paging.
  await page.getByRole('link', { name: 'Next →' }).click();
  await page.waitForURL((u) => u.searchParams.get('page') === '2' && u.searchParams.get('sort') === 'name');
  await waitForIds(page, 'snapshot-row', byName.slice(50));
  assert.ok(
    (await snapRows(page).locator('.sd-cell-name').allInnerTexts()).some((n) => n.includes('(unnamed)')),
    'unnamed snapshots come last',
  );

  // The active column flips.
  await clickSort(page, 'Name', '-name');
  await waitForIds(page, 'snapshot-row', snapshotOrder(all, '-name', devboxes).slice(0, 50));
  assert.equal((await ariaSorts(page)).Name, 'descending');

  // Reload: same URL, same order.
  await page.reload();
  await snapRows(page).first().waitFor();
  assert.equal(sortParam(page), '-name');
  await waitForIds(page, 'snapshot-row', snapshotOrder(all, '-name', devboxes).slice(0, 50));
  assert.equal((await ariaSorts(page)).Name, 'descending');

  // Keyboard: a header is a link, Enter sorts; sizes start largest first.
  await clickSort(page, 'Size', '-size', 'enter');
  await waitForIds(page, 'snapshot-row', snapshotOrder(all, '-size', devboxes).slice(0, 50));

  // The devbox column sorts by the name it shows.
  await clickSort(page, 'Devbox', 'devbox');
  await waitForIds(page, 'snapshot-row', snapshotOrder(all, 'devbox', devboxes).slice(0, 50));
  assert.deepEqual(errors, []);
  await context.close();
});

test('a sort keeps the other filters, and the filters keep the sort', async () => {
  const [all, devboxes] = [await server.api.snapshots(), await server.api.devboxes()];
  const ci = devboxes.find((d) => d.name === 'ci-warm-cache');
  const nightly = all.filter((s) => s.source_devbox_id === ci.id && /nightly/.test(s.name ?? ''));
  assert.ok(nightly.length >= 3);
  const { context, page, errors } = await openApp(
    browser, server.url, `/snapshots?devbox=${ci.id}&q=nightly`,
  );
  await snapRows(page).first().waitFor();
  // Clicking the active Created header flips it to oldest first.
  await clickSort(page, 'Created', 'created');
  const url = new URL(page.url());
  assert.equal(url.searchParams.get('devbox'), ci.id);
  assert.equal(url.searchParams.get('q'), 'nightly');
  await waitForIds(page, 'snapshot-row', snapshotOrder(nightly, 'created', devboxes));
  const times = await snapRows(page).locator('time').evaluateAll((els) => els.map((e) => e.dateTime));
  assert.deepEqual(times, [...times].sort(), 'dates read from the table go oldest first');

  // Removing the search keeps the sort.
  await page.locator('#sd-snap-q').fill('');
  await page.waitForURL((u) => !u.searchParams.has('q'));
  assert.equal(sortParam(page), 'created');
  const ciAll = all.filter((s) => s.source_devbox_id === ci.id);
  await waitForIds(page, 'snapshot-row', snapshotOrder(ciAll, 'created', devboxes).slice(0, 50));
  assert.deepEqual(errors, []);
  await context.close();
});

test('shift-click ranges and the delete dialog follow the order on screen', async () => {
  const [all, devboxes] = [await server.api.snapshots(), await server.api.devboxes()];
  const load = all.filter((s) => /load/i.test(s.name ?? ''));
  const { context, page, errors } = await openApp(browser, server.url, '/snapshots?q=load&sort=name');
  await waitForIds(page, 'snapshot-row', snapshotOrder(load, 'name', devboxes));
  const box = (id) => page.locator(`[data-testid="snapshot-row"][data-id="${id}"] input[type="checkbox"]`);
  const selected = () => snapRows(page).evaluateAll((els) =>
    els.filter((e) => e.getAttribute('aria-selected') === 'true').map((e) => e.dataset.id));

  // A range in name order: rows 3..8 as shown.
  const byName = await ids(snapRows(page));
  await box(byName[3]).click();
  await box(byName[8]).click({ modifiers: ['Shift'] });
  await page.getByText('6 selected').waitFor();
  assert.deepEqual(await selected(), byName.slice(3, 9));
  // The same two rows span a different set in the default order (so the test means
  // something).
  const byDate = snapshotOrder(load, '-created', devboxes);
  const [i, j] = [byDate.indexOf(byName[3]), byDate.indexOf(byName[8])].sort((a, b) => a - b);
  assert.notDeepEqual(new Set(byDate.slice(i, j + 1)), new Set(byName.slice(3, 9)));

  // The dialog lists them in the same order.
  await page.getByRole('button', { name: 'Delete selected…' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="confirm-delete"]').length === 6);
  assert.deepEqual(await ids(page.locator('[data-testid="confirm-delete"]')), byName.slice(3, 9));
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });

  // Anchor set in name order, sort changed, shift-click: the range is taken in the new
  // order (the one on screen), not the old one.
  await page.getByRole('button', { name: 'Clear', exact: true }).click();
  await box(byName[2]).click();
  await clickSort(page, 'Size', '-size');
  const bySize = snapshotOrder(load, '-size', devboxes);
  await waitForIds(page, 'snapshot-row', bySize);
  assert.deepEqual(await selected(), [byName[2]], 'the selection survives a re-sort');
  const a = bySize.indexOf(byName[2]);
  const b = a + 4 < bySize.length ? a + 4 : a - 4;
  await box(bySize[b]).click({ modifiers: ['Shift'] });
  await page.getByText('5 selected').waitFor();
  assert.deepEqual(await selected(), bySize.slice(Math.min(a, b), Math.max(a, b) + 1));
  assert.deepEqual(errors, []);
  await context.close();
});

test('devbox headers sort by name, status and date, keeping the status filter', async () => {
  const all = await server.api.devboxes();
  const { context, page, errors } = await openApp(browser, server.url, '/devboxes');
  await waitForIds(page, 'devbox-row', devboxOrder(all, '-created'));
  assert.deepEqual(await ariaSorts(page), { Name: 'none', Status: 'none', Created: 'descending' });

  await clickSort(page, 'Status', 'status');
  await waitForIds(page, 'devbox-row', devboxOrder(all, 'status'));
  const statuses = await boxRows(page).evaluateAll((els) => els.map((e) => e.dataset.status));
  const stage = statuses.map((s) => LIFECYCLE.indexOf(s));
  assert.deepEqual(stage, [...stage].sort((a, b) => a - b), `lifecycle order: ${statuses}`);
  assert.equal((await ariaSorts(page)).Status, 'ascending');

  // A status chip keeps the sort; a header keeps the status.
  await page.locator('.sd-chip[data-status="running"]').click();
  await page.waitForURL((u) => u.searchParams.get('status') === 'running');
  assert.equal(sortParam(page), 'status');
  const running = all.filter((d) => d.status === 'running');
  await clickSort(page, 'Name', 'name');
  assert.equal(new URL(page.url()).searchParams.get('status'), 'running');
  await waitForIds(page, 'devbox-row', devboxOrder(running, 'name'));
  const names = await boxRows(page).locator('.sd-cell-name').allInnerTexts();
  assert.deepEqual(names, [...names].sort(cmpText), 'names read from the table are in order');

  await page.reload();
  await waitForIds(page, 'devbox-row', devboxOrder(running, 'name'));
  assert.equal((await ariaSorts(page)).Name, 'ascending');

  await clickSort(page, 'Name', '-name', 'enter');
  await waitForIds(page, 'devbox-row', devboxOrder(running, '-name'));
  // Back to the default order: it leaves the URL.
  await clickSort(page, 'Created', null);
  assert.equal(new URL(page.url()).search, '?status=running');
  await waitForIds(page, 'devbox-row', devboxOrder(running, '-created'));
  assert.deepEqual(errors, []);
  await context.close();
});

test('a header link resets the page and keeps every other filter', async () => {
  const { context, page } = await openApp(browser, server.url, '/devboxes?status=running&q=agent&page=2');
  const link = page.getByRole('link', { name: 'Name', exact: true });
  await link.waitFor();
  assert.equal(await link.getAttribute('href'), '/devboxes?status=running&q=agent&sort=name');
  await context.close();
});

test('sorted tables in light and dark, wide and at 360 px', async () => {
  // Size is hidden at 360 px, so the narrow pictures sort by name.
  const shots = [
    ['/snapshots?sort=-size', 'snapshots-sorted-by-size', snapRows, [1280]],
    ['/snapshots?sort=name', 'snapshots-sorted-by-name', snapRows, [1280, 360]],
    ['/devboxes?sort=status', 'devboxes-sorted-by-status', boxRows, [1280, 360]],
  ];
  for (const [path, name, rows, widths] of shots) {
    for (const colorScheme of ['light', 'dark']) {
      for (const width of widths) {
        const { context, page, errors } = await openApp(browser, server.url, path, {
          colorScheme,
          viewport: { width, height: width > 400 ? 800 : 740 },
        });
        await rows(page).first().waitFor();
        // Let statuses and counts arrive so the picture is the settled page.
        await page.waitForFunction(() => !document.querySelector('.sd-skeleton'), undefined, { timeout: 5000 })
          .catch(() => {});
        await screenshot(page, `${name}-${colorScheme}-${width}`);
        const overflow = await page.evaluate(
          () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
        );
        assert.ok(overflow <= 1, `${name} ${width}px: no horizontal page scroll (${overflow}px)`);
        assert.deepEqual(errors, []);
        await context.close();
      }
    }
  }
});
