// The page's shell: the live feed (GET /api/events, Server-Sent Events), the store of rows it keeps, the error area,
// and the hash routes: #/ the Runners, #/runners/NS/NAME one Runner, #/runners/NS/NAME/logs/JOB with a run's logs.
import { el, refreshRelativeTimes } from './dom.js';
import { runnersPage } from './list.js';
import { runnerPage } from './runner.js';

const errorArea = document.getElementById('error');
const watchStatus = document.getElementById('watch-status');
const scopeLabel = document.getElementById('scope');
const view = document.getElementById('view');

const store = {
  /** key "namespace/name" → the row the server sent. */
  rows: new Map(),
  scope: '',
  health: { ok: true },
  /** The first snapshot has arrived. */
  loaded: false,
  /** Shows a refusal or failure in words, with the API server's own words under it when there are any. */
  showError(message, apiServer) {
    errorArea.replaceChildren(
      el('p', { dataset: { testid: 'error-message' } }, message),
      apiServer && apiServer !== message ? el('p', { class: 'api-server' }, 'The API server said: ', el('q', { dataset: { testid: 'error-api-server' } }, apiServer)) : null,
      el('button', { type: 'button', class: 'dismiss', 'aria-label': 'Dismiss', on: { click: () => store.clearError() } }, '×'),
    );
    errorArea.hidden = false;
  },
  clearError() {
    errorArea.replaceChildren();
    errorArea.hidden = true;
  },
};

let page = null;

function setWatchStatus(state, words) {
  watchStatus.dataset.state = state;
  watchStatus.textContent = words;
}

function showHealth() {
  if (store.health.ok) setWatchStatus('live', 'live');
  else setWatchStatus('failing', store.health.message);
}

/** One stream for the whole page; EventSource reconnects by itself and then gets a new snapshot. */
function connectFeed() {
  const feed = new EventSource('/api/events');
  feed.addEventListener('snapshot', (e) => {
    const s = JSON.parse(e.data);
    store.rows = new Map(s.rows.map((r) => [r.key, r]));
    store.scope = s.scope;
    store.health = s.health;
    store.loaded = true;
    scopeLabel.textContent = s.scope;
    showHealth();
    page?.changed();
  });
  feed.addEventListener('upsert', (e) => {
    const row = JSON.parse(e.data);
    store.rows.set(row.key, row);
    if (!page?.key || page.key === row.key) page?.changed();
  });
  feed.addEventListener('delete', (e) => {
    const { key } = JSON.parse(e.data);
    store.rows.delete(key);
    if (page?.key === key) page.deleted();
    else if (!page?.key) page?.changed();
  });
  feed.addEventListener('health', (e) => {
    store.health = JSON.parse(e.data);
    showHealth();
  });
  feed.addEventListener('error', () => {
    if (feed.readyState === EventSource.CLOSED) {
      // Refused (401: the cookie is gone, or this is another server on the same port): EventSource gives up.
      setWatchStatus('closed', 'not connected');
      store.showError('Lost the connection to hestia ui, and it refused to reconnect: open the URL that hestia ui printed (or run it again).');
    } else setWatchStatus('connecting', 'reconnecting…');
  });
}

/** #/runners/NS/NAME[/logs/JOB] → its parts; anything else is the Runners page. */
export function parseRoute(hash) {
  const m = /^#\/runners\/([^/]+)\/([^/]+)(?:\/logs\/([^/]+))?$/.exec(hash);
  if (!m) return { page: 'runners' };
  try {
    return { page: 'runner', namespace: decodeURIComponent(m[1]), name: decodeURIComponent(m[2]), job: m[3] === undefined ? undefined : decodeURIComponent(m[3]) };
  } catch {
    return { page: 'runners' };
  }
}

function render() {
  const route = parseRoute(location.hash);
  if (route.page === 'runner' && page?.key === `${route.namespace}/${route.name}`) {
    // The same Runner: only its logs changed.
    if (route.job !== undefined) page.showLogs(route.job);
    return;
  }
  page?.close();
  store.clearError();
  page = route.page === 'runner' ? runnerPage(store, route) : runnersPage(store);
  document.title = route.page === 'runner' ? `${route.namespace}/${route.name} · Hestia` : 'Runners · Hestia';
  view.replaceChildren(page.root);
}

window.addEventListener('hashchange', render);
render();
connectFeed();
// Keeps "3 min ago" true without asking the server anything.
setInterval(() => refreshRelativeTimes(), 30_000);
