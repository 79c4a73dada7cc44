// Building the page: every string goes in as text (createElement, textContent, setAttribute), never as HTML, so a
// name, a message or a log line from the cluster can only ever be read, not run. No innerHTML anywhere.

/**
 * el('td', { class: 'x', dataset: { field: 'state' }, title: row.message, on: { click } }, 'text', child, ...).
 * Strings among the children become text nodes; null, undefined and false are skipped; arrays are flattened.
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'dataset') {
      for (const [key, v] of Object.entries(value)) if (v !== undefined && v !== null) node.dataset[key] = String(v);
    } else if (name === 'on') {
      for (const [event, handler] of Object.entries(value)) node.addEventListener(event, handler);
    } else if (name === 'text') {
      node.textContent = String(value);
    } else {
      node.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

/** The page's own link to a Runner (or one of its runs' logs): each part is encoded, the rest is ours. */
export function runnerHref(namespace, name, job) {
  const base = `#/runners/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
  return job ? `${base}/logs/${encodeURIComponent(job)}` : base;
}

/** The API path of a Runner (and a sub-resource). */
export const runnerApi = (namespace, name, sub) => `/api/runners/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}${sub ? `/${sub}` : ''}`;

/** "in 4 min", "3 h ago", "just now": said relative to `now`, with the time itself in the element's title. */
export function relativeWords(iso, now = Date.now()) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const seconds = Math.round((t - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 10) return 'just now';
  const [amount, unit] = abs < 60 ? [abs, 's'] : abs < 3600 ? [Math.round(abs / 60), 'min'] : abs < 86400 ? [Math.round(abs / 3600), 'h'] : [Math.round(abs / 86400), 'd'];
  return seconds > 0 ? `in ${amount} ${unit}` : `${amount} ${unit} ago`;
}

/** A <time> that says how long ago (or how soon); refreshRelativeTimes() keeps the words current. */
export function timeEl(iso) {
  if (!iso) return el('span', { class: 'none' }, '–');
  return el('time', { datetime: iso, title: new Date(iso).toLocaleString(), dataset: { relative: '' } }, relativeWords(iso));
}

export function refreshRelativeTimes(root = document) {
  for (const t of root.querySelectorAll('time[data-relative]')) t.textContent = relativeWords(t.getAttribute('datetime'));
}

/** 42s, 3m05s, 1h02m: as `hestia runs` prints durations. */
export function durationWords(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  if (seconds < 60) return `${seconds}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** A Runner's state as a badge; the state is an attribute value for the stylesheet, never a class or markup. */
export const stateEl = (state) => el('span', { class: 'state', dataset: { state: state ?? 'Unknown' } }, state ?? 'not seen yet');

/** A run's result as a badge. */
export const resultEl = (result) => (result ? el('span', { class: 'result', dataset: { result } }, result) : el('span', { class: 'none' }, '–'));

/** The marks beside a state: flaky, advisory, tests, error, suspended, stalled. */
export const marksEl = (marks) =>
  marks.map((m) => el('span', { class: 'mark', dataset: { mark: m.kind, failing: m.failing ? 'true' : undefined } }, m.text));
