// The Runners page: one row per Runner (namespace, name, state, latest result and when, next run, marks), a filter
// box and sortable columns. It redraws from the store whenever the feed changes a row; nothing is polled.
import { el, marksEl, resultEl, runnerHref, stateEl, timeEl } from './dom.js';

const COLUMNS = [
  { key: 'namespace', title: 'Namespace' },
  { key: 'name', title: 'Name' },
  { key: 'state', title: 'State' },
  { key: 'lastResult', title: 'Last result' },
  { key: 'lastRunAt', title: 'When' },
  { key: 'nextRun', title: 'Next run' },
  { key: 'marks', title: 'Marks', sortable: false },
];

/** Rows that contain every word of the filter, in any of their shown texts; case does not matter. */
export function matches(row, filter) {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const haystack = [row.namespace, row.name, row.state, row.lastResult, row.lastJob, row.message, ...row.marks.map((m) => m.text)].filter(Boolean).join(' ').toLowerCase();
  return words.every((w) => haystack.includes(w));
}

/** Sorted by one column, empty values last whichever the direction; ties by namespace and name. */
export function sorted(rows, by, direction) {
  const sign = direction === 'descending' ? -1 : 1;
  const tie = (a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name);
  return [...rows].sort((a, b) => {
    const x = a[by] ?? null;
    const y = b[by] ?? null;
    if (x === y) return tie(a, b);
    if (x === null) return 1;
    if (y === null) return -1;
    return sign * String(x).localeCompare(String(y)) || tie(a, b);
  });
}

export function runnersPage(store) {
  let by = 'namespace';
  let direction = 'ascending';
  const filter = el('input', { id: 'filter', type: 'search', placeholder: 'Filter: name, namespace, state, mark…', 'aria-label': 'Filter the Runners', dataset: { testid: 'filter' }, autocomplete: 'off' });
  const tbody = el('tbody', { id: 'runner-rows' });
  const headers = COLUMNS.map((c) =>
    el(
      'th',
      { scope: 'col', dataset: { column: c.key } },
      c.sortable === false ? c.title : el('button', { type: 'button', class: 'sort', dataset: { sort: c.key, testid: `sort-${c.key}` }, on: { click: () => sortBy(c.key) } }, c.title),
    ),
  );
  const count = el('span', { id: 'runner-count', dataset: { testid: 'runner-count' } });
  const root = el(
    'section',
    { id: 'runners', dataset: { testid: 'runners-page', loaded: 'false' } },
    el('div', { class: 'toolbar' }, el('h1', {}, 'Runners'), filter, count),
    el('table', { id: 'runner-table', dataset: { testid: 'runner-table' } }, el('thead', {}, el('tr', {}, headers)), tbody),
  );
  filter.addEventListener('input', draw);

  function sortBy(key) {
    direction = by === key && direction === 'ascending' ? 'descending' : 'ascending';
    by = key;
    draw();
  }

  function rowEl(row) {
    return el(
      'tr',
      { dataset: { testid: 'runner-row', key: row.key, namespace: row.namespace, name: row.name, state: row.state ?? '', result: row.lastResult ?? '' } },
      el('td', { dataset: { field: 'namespace' } }, row.namespace),
      el('td', { dataset: { field: 'name' } }, el('a', { href: runnerHref(row.namespace, row.name), dataset: { testid: 'runner-link' } }, row.name)),
      el('td', { dataset: { field: 'state', testid: 'runner-state' }, title: row.message ?? undefined }, stateEl(row.state)),
      el('td', { dataset: { field: 'lastResult', testid: 'runner-last-result' } }, resultEl(row.lastResult)),
      el('td', { dataset: { field: 'lastRunAt' } }, timeEl(row.lastRunAt)),
      el('td', { dataset: { field: 'nextRun' }, title: row.schedule ?? undefined }, timeEl(row.nextRun)),
      el('td', { dataset: { field: 'marks', testid: 'runner-marks' } }, marksEl(row.marks)),
    );
  }

  function draw() {
    for (const th of headers) th.setAttribute('aria-sort', th.dataset.column === by ? direction : 'none');
    const all = [...store.rows.values()];
    const shown = sorted(all.filter((r) => matches(r, filter.value)), by, direction);
    const empty =
      all.length === 0
        ? store.health.ok
          ? `No Runners in ${store.scope || 'this scope'}.`
          : `The Runners of ${store.scope || 'this scope'} could not be read (the reason is at the top right).`
        : shown.length === 0
          ? 'No Runner matches the filter.'
          : null;
    tbody.replaceChildren(...(empty ? [el('tr', { dataset: { testid: 'no-runners' } }, el('td', { colspan: COLUMNS.length }, empty))] : shown.map(rowEl)));
    count.textContent = all.length === shown.length ? `${all.length}` : `${shown.length} of ${all.length}`;
    root.dataset.loaded = String(store.loaded);
  }

  draw();
  return { root, changed: draw, close() {} };
}
