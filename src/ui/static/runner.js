// One Runner's page: its statechart with the state it is in lit, why it waits, its runs, a run's logs and Trigger.
// The feed says when the Runner changed; the page then reads it again (one read at a time, the latest wins).
import { durationWords, el, marksEl, resultEl, runnerApi, runnerHref, stateEl, timeEl } from './dom.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
/** Elements a drawing of states never needs and that could run or load something. */
const DROPPED_ELEMENTS = new Set(['script', 'foreignObject', 'iframe', 'style', 'use', 'image', 'animate', 'set']);

/**
 * The statechart as the server drew it, made safe to place in the page: no script, no style (the CSP blocks style
 * attributes, and the drawing uses presentation attributes only), no event handler, no link to anywhere.
 */
export function safeSvg(text) {
  const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
  const svg = doc.documentElement;
  if (svg.namespaceURI !== SVG_NS || svg.localName !== 'svg' || doc.getElementsByTagName('parsererror').length > 0) return null;
  for (const node of [...svg.querySelectorAll('*')]) {
    if (DROPPED_ELEMENTS.has(node.localName)) {
      node.remove();
      continue;
    }
    for (const attr of [...node.attributes]) {
      const name = attr.localName.toLowerCase();
      if (name.startsWith('on') || name === 'style' || name === 'href') node.removeAttributeNode(attr);
    }
  }
  svg.removeAttribute('style');
  return document.importNode(svg, true);
}

/** The paths of the lit states ("atRest atRest.blocked atRest.blocked.WaitingForWorkloads"), for the tests and the title. */
const litPaths = (svg) => [...svg.querySelectorAll('g.state.lit')].map((g) => g.id.replace(/^state-/, '')).join(' ');

export function runnerPage(store, { namespace, name, job }) {
  const key = `${namespace}/${name}`;
  const api = (sub) => runnerApi(namespace, name, sub);
  const state = el('span', { id: 'runner-state', dataset: { testid: 'runner-state' } });
  const marks = el('span', { id: 'runner-marks', dataset: { testid: 'runner-marks' } });
  const message = el('p', { id: 'runner-message', class: 'message', dataset: { testid: 'runner-message' } });
  const problems = el('ul', { id: 'problems', class: 'problems', dataset: { testid: 'problems' }, hidden: true });
  const triggerResult = el('span', { id: 'trigger-result', role: 'status', dataset: { testid: 'trigger-result' } });
  const trigger = el('button', { id: 'trigger', type: 'button', dataset: { testid: 'trigger' }, on: { click: requestRun } }, 'Trigger a run');
  const schedule = el('p', { id: 'runner-schedule', class: 'schedule', dataset: { testid: 'runner-schedule' } });
  const diagram = el('div', { id: 'diagram', class: 'diagram', dataset: { testid: 'diagram', litKey: '', lit: '' }, 'aria-label': 'The Runner machine, the current state lit' });
  const inputs = el('tbody');
  const probes = el('tbody');
  const conditions = el('tbody');
  const lastRun = el('dl', { id: 'last-run', dataset: { testid: 'last-run' } });
  const history = el('tbody');
  const logs = el('section', { id: 'logs', class: 'logs', dataset: { testid: 'logs', job: '', loaded: 'false' }, hidden: true });

  const table = (id, heads, body) => el('table', { id, dataset: { testid: id } }, el('thead', {}, el('tr', {}, heads.map((h) => el('th', { scope: 'col' }, h)))), body);
  const root = el(
    'section',
    { id: 'runner', dataset: { testid: 'runner-page', key, loaded: 'false' } },
    el('nav', {}, el('a', { href: '#/', dataset: { testid: 'back' } }, '← Runners')),
    el('div', { class: 'toolbar' }, el('h1', { dataset: { testid: 'runner-title' } }, key), state, marks, trigger, triggerResult),
    message,
    schedule,
    problems,
    el('section', { class: 'panel' }, el('h2', {}, 'Statechart'), diagram),
    el(
      'section',
      { class: 'panel' },
      el('h2', {}, 'Why it waits'),
      table('inputs', ['Ready', 'Role', 'Kind', 'Object', 'Detail'], inputs),
      table('probes', ['Ready', 'Probe', 'URL', 'Answer'], probes),
      table('conditions', ['Condition', 'Status', 'Reason', 'Message', 'Since'], conditions),
    ),
    el('section', { class: 'panel' }, el('h2', {}, 'Latest run'), lastRun),
    el('section', { class: 'panel' }, el('h2', {}, 'Runs'), table('history', ['Run', 'Start', 'Duration', 'Result', 'Tests', 'Trigger', 'Job', 'Message', ''], history)),
    logs,
  );

  let closed = false;
  let reading = false;
  let readAgain = false;

  /** Reads the Runner's page again; a change that arrives during a read causes one more read after it. */
  async function refresh() {
    if (reading) {
      readAgain = true;
      return;
    }
    reading = true;
    try {
      do {
        readAgain = false;
        const res = await fetch(api());
        const body = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
        if (closed) return;
        if (!res.ok) {
          store.showError(body.error ?? `HTTP ${res.status}`, body.apiServer);
          root.dataset.loaded = 'true';
          return;
        }
        draw(body);
        await drawDiagram(body.litKey);
      } while (readAgain && !closed);
    } catch (err) {
      if (!closed) store.showError(`could not read Runner ${key}: ${err.message}`);
    } finally {
      reading = false;
    }
  }

  let requesting = false;
  let wasDeleted = false;

  function draw(d) {
    const row = d.row;
    // Here again after a delete (re-created): it can be triggered again, and the error no longer holds.
    if (wasDeleted) {
      wasDeleted = false;
      store.clearError();
    }
    trigger.disabled = requesting;
    state.replaceChildren(stateEl(row.state));
    state.dataset.state = row.state ?? '';
    marks.replaceChildren(...marksEl(row.marks));
    message.textContent = row.message ?? '';
    schedule.replaceChildren(...(row.schedule ? ['Schedule ', el('code', {}, row.schedule), ` (${d.timeZone}); next run `, timeEl(row.nextRun)] : []));
    problems.replaceChildren(...d.problems.map((p) => el('li', { dataset: { testid: 'problem' } }, p)));
    problems.hidden = d.problems.length === 0;

    const ready = (r) => el('td', { class: 'ready', dataset: { ready: String(r) } }, r ? 'ready' : 'not ready');
    inputs.replaceChildren(
      ...(d.inputs.length === 0 ? [el('tr', {}, el('td', { colspan: 5, class: 'none' }, 'No workload, resource or upstream Runner selected.'))] : []),
      ...d.inputs.map((i) =>
        el('tr', { dataset: { testid: 'input-row', role: i.role, kind: i.kind, ready: String(i.ready) } }, ready(i.ready), el('td', {}, i.role), el('td', {}, i.kind), el('td', {}, `${i.namespace}/${i.name}`), el('td', {}, i.message)),
      ),
      ...(d.moreInputs > 0 ? [el('tr', {}, el('td', { colspan: 5, class: 'none' }, `… and ${d.moreInputs} more (the status lists those not ready first)`))] : []),
    );
    probes.replaceChildren(
      ...(d.probes.length === 0 ? [el('tr', {}, el('td', { colspan: 4, class: 'none' }, 'No probes.'))] : []),
      ...d.probes.map((p) => el('tr', { dataset: { testid: 'probe-row', probe: p.name, ready: String(p.ready) } }, ready(p.ready), el('td', {}, p.name), el('td', {}, el('code', {}, p.url)), el('td', {}, p.message))),
    );
    conditions.replaceChildren(
      ...d.conditions.map((c) =>
        el('tr', { dataset: { testid: 'condition-row', type: c.type, status: c.status } }, el('td', {}, c.type), el('td', {}, c.status), el('td', {}, c.reason), el('td', {}, c.message), el('td', {}, timeEl(c.since))),
      ),
    );

    const r = d.lastRun;
    const item = (term, ...value) => [el('dt', {}, term), el('dd', {}, ...value)];
    lastRun.replaceChildren(
      ...(r
        ? [
            ...item('Job', r.job),
            ...item('Result', el('span', { dataset: { testid: 'last-run-result' } }, r.result)),
            ...item('Trigger', r.trigger),
            ...item('Started', timeEl(r.startTime), r.completionTime ? ', finished ' : '', r.completionTime ? timeEl(r.completionTime) : ''),
            ...(r.message ? item('Message', el('span', { class: 'message' }, r.message)) : []),
            ...(r.flaky ? item('Attempts', r.flaky) : []),
            ...(r.tests ? item('Tests', el('span', { dataset: { testid: 'last-run-tests' } }, r.tests), r.failedTests.length ? el('ul', {}, r.failedTests.map((t) => el('li', {}, t))) : '') : []),
          ]
        : [el('dd', { class: 'none' }, 'No run yet.')]),
    );

    history.replaceChildren(
      ...(d.history.length === 0 ? [el('tr', {}, el('td', { colspan: 9, class: 'none' }, 'No runs recorded (no kept Job, Event or status.lastRun).'))] : []),
      ...d.history.map((e) =>
        el(
          'tr',
          { dataset: { testid: 'run-row', job: e.job, result: e.result, kept: String(e.jobKept) } },
          el('td', {}, e.run === null ? '–' : String(e.run)),
          el('td', {}, timeEl(e.startTime)),
          el('td', {}, durationWords(e.durationSeconds)),
          el('td', {}, resultEl(e.result), e.flaky ? el('span', { class: 'mark', dataset: { mark: 'flaky' } }, 'flaky') : '', e.errorReason ? el('span', { class: 'mark', dataset: { mark: 'error' } }, e.errorReason) : ''),
          el('td', {}, e.tests ?? '–'),
          el('td', {}, e.trigger || '–'),
          el('td', {}, e.jobKept ? e.job : `${e.job} (deleted)`),
          el('td', { class: 'message' }, e.message || '–'),
          el('td', {}, el('a', { href: runnerHref(namespace, name, e.job), class: 'button', dataset: { testid: 'show-logs', job: e.job } }, 'Logs')),
        ),
      ),
    );
    root.dataset.loaded = 'true';
  }

  /** Draws the statechart again when the lit state changed; the drawing replaces the last one whole. */
  async function drawDiagram(litKey) {
    if (diagram.dataset.litKey === litKey) return;
    const res = await fetch(api('diagram.svg'));
    if (closed) return;
    if (!res.ok) {
      diagram.replaceChildren(el('p', { class: 'problem' }, `The statechart could not be drawn (HTTP ${res.status}).`));
      return;
    }
    const svg = safeSvg(await res.text());
    if (closed) return;
    if (!svg) {
      diagram.replaceChildren(el('p', { class: 'problem' }, 'The statechart could not be read.'));
      return;
    }
    diagram.replaceChildren(svg);
    // The key of the drawing received, which a read after a newer change may already have moved past.
    diagram.dataset.litKey = decodeURIComponent(res.headers.get('x-hestia-lit-key') ?? '');
    diagram.dataset.lit = litPaths(svg);
    if (diagram.dataset.litKey !== litKey) readAgain = true;
  }

  async function requestRun() {
    requesting = true;
    trigger.disabled = true;
    triggerResult.textContent = 'requesting…';
    try {
      // fetch's default mode (cors) sends this page's Origin, which the server requires; mode 'same-origin' would
      // send `Origin: null` under the page's Referrer-Policy no-referrer (Fetch standard, "append a request Origin header").
      const res = await fetch(api('trigger'), { method: 'POST', headers: { 'X-Hestia-UI': '1' } });
      const body = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
      if (res.ok) {
        store.clearError();
        triggerResult.textContent = `Run requested (${body.annotation}=${body.trigger}).`;
        triggerResult.dataset.outcome = 'requested';
      } else {
        triggerResult.textContent = 'Refused.';
        triggerResult.dataset.outcome = 'refused';
        store.showError(body.error ?? `HTTP ${res.status}`, body.apiServer);
      }
    } catch (err) {
      triggerResult.textContent = 'Failed.';
      triggerResult.dataset.outcome = 'failed';
      store.showError(`could not request a run: ${err.message}`);
    } finally {
      requesting = false;
      trigger.disabled = wasDeleted;
    }
  }

  async function showLogs(jobName) {
    logs.hidden = false;
    logs.dataset.job = jobName ?? '';
    logs.dataset.loaded = 'false';
    const reload = el('button', { type: 'button', dataset: { testid: 'reload-logs' }, on: { click: () => showLogs(jobName) } }, 'Read again');
    logs.replaceChildren(el('h2', {}, jobName ? `Logs of Job ${jobName}` : 'Logs of the latest run', ' ', reload), el('p', { class: 'none' }, 'reading…'));
    const res = await fetch(`${api('logs')}${jobName ? `?job=${encodeURIComponent(jobName)}` : ''}`);
    const body = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
    if (closed || logs.dataset.job !== (jobName ?? '')) return;
    const parts = [];
    if (!res.ok) parts.push(el('p', { class: 'problem', dataset: { testid: 'logs-message' } }, body.error ?? `HTTP ${res.status}`));
    else if (body.kind === 'none') parts.push(el('pre', { class: 'explain', dataset: { testid: 'logs-message' } }, body.message));
    else {
      for (const s of body.sections) {
        parts.push(
          el(
            'div',
            { class: 'log-section', dataset: { testid: 'log-section', pod: s.pod, container: s.container, attempt: String(s.attempt) } },
            s.header ? el('h3', { dataset: { testid: 'log-header' } }, s.header) : null,
            s.problem ? el('p', { class: 'problem', dataset: { testid: 'log-problem' } }, s.problem) : el('pre', { class: 'log', dataset: { testid: 'log-text' } }, s.text),
            s.terminationMessage ? el('p', { class: 'termination' }, 'Termination message: ', el('span', { dataset: { testid: 'log-termination' } }, s.terminationMessage)) : null,
          ),
        );
      }
      parts.push(el('p', { class: 'none' }, `At most the last ${body.tailLines} lines of each container. All of it: kubectl hestia logs ${name} -n ${namespace} --job ${body.job}`));
    }
    logs.replaceChildren(el('h2', {}, `Logs of Job ${body.job ?? jobName ?? '(none)'}`, ' ', reload), ...parts);
    logs.dataset.loaded = 'true';
  }

  refresh();
  if (job !== undefined) showLogs(job);

  return {
    root,
    key,
    /** The feed changed this Runner. */
    changed: refresh,
    deleted() {
      wasDeleted = true;
      store.showError(`Runner ${key} was deleted.`);
      trigger.disabled = true;
    },
    showLogs,
    close() {
      closed = true;
    },
  };
}
