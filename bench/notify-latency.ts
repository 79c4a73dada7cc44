// Does a Destination that is down slow runs down? For N Runners selecting one Deployment, the median time from the
// rollout (the Deployment's status write that makes it available) to each Runner's Job create, read from the audit
// log on the server's clock: with no Notification, with a Notification to a receiver that never answers (each
// delivery waits out its timeout), with one to a receiver that answers 503 (retried with backoff), and, to tell the
// cost of a receiver that is down from that of notifying at all, with one to a receiver that answers 200. The
// populations live in namespaces of their own under one operator process, are rolled out in turn (the order rotated
// each round, so none is always first), and their lines of notices keep filling while the others are measured.
// Prints each round and the medians with their ratios to no Notification; writes the figures as JSON.
//
//   test/cluster/with-cluster.sh node bench/notify-latency.ts --runners 50 --rounds 3
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { GROUP, VERSION } from '../src/api/runner.ts';
import { DESTINATION_PLURAL, NOTIFICATION_PLURAL } from '../src/notify/api.ts';
import { KubeClient } from '../src/k8s/client.ts';
import { fromKubeconfigFile } from '../src/k8s/kubeconfig.ts';
import { OPERATOR_USER, operatorKubeConfig } from '../test/integration/support/identity.ts';
import { installCrd } from '../test/integration/support/kube.ts';
import { startCloudEventsReceiver, type Receiver } from '../test/integration/support/receivers.ts';
import { AuditLog, median, triggerLatencies } from './audit-log.ts';
import { createRunners, deployment, deploymentName, range, rollOut, waitForStates } from './population.ts';
import { stop } from './processes.ts';
import { quiet, startOperator, type Context } from './scenarios.ts';

const { values } = parseArgs({
  options: {
    runners: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '3' },
    out: { type: 'string', default: '.cache/bench-notify/notify-latency.json' },
  },
});
const runners = Number(values.runners);
const rounds = Number(values.rounds);
const log = (...args: unknown[]) => console.log(`[notify-latency ${new Date().toISOString().slice(11, 19)}]`, ...args);

type Condition = 'none' | 'hanging' | 'unavailable' | 'accepting';
const CONDITIONS: readonly Condition[] = ['none', 'hanging', 'unavailable', 'accepting'];
/**
 * The one Deployment a population's Runners select, its own per namespace: a workloadSelector without a
 * namespaceSelector selects in every namespace, so each population's Deployment carries a label of its own.
 */
const shopOf = (c: Condition) => CONDITIONS.indexOf(c);

const admin = new KubeClient(await fromKubeconfigFile(process.env.KUBECONFIG!));
await installCrd();
const kubeconfig = `${process.env.HESTIA_AUDIT_LOG!.replace(/audit\.log$/, '')}operator-kubeconfig.yaml`;
writeFileSync(kubeconfig, (await operatorKubeConfig()).exportConfig());
const audit = new AuditLog(process.env.HESTIA_AUDIT_LOG!);
const ctx: Context = { admin, audit, ns: '', user: OPERATOR_USER, env: { KUBECONFIG: kubeconfig, HESTIA_NOTIFY_ALLOW_LOCAL: 'true' }, operatorMain: 'dist/src/main.js' }; // as it ships (make bench-notify builds it)

const hanging = await startCloudEventsReceiver();
hanging.answer('hang');
const unavailable = await startCloudEventsReceiver();
unavailable.answer('unavailable');
const accepting = await startCloudEventsReceiver();
const receiverOf: Record<Condition, Receiver | null> = { none: null, hanging, unavailable, accepting };
const namespaceOf = (c: Condition) => `notify-${c}`;

/** A namespace with one Deployment, a Notification of every run's start and end to the condition's receiver, and the Runners. */
async function population(condition: Condition): Promise<void> {
  const ns = namespaceOf(condition);
  await admin.create('/api/v1/namespaces', { metadata: { name: ns } });
  await admin.create(`/apis/apps/v1/namespaces/${ns}/deployments`, deployment(ns, shopOf(condition)));
  const receiver = receiverOf[condition];
  if (receiver) {
    // The default timeout (10 s): what a user who wrote nothing gets.
    await admin.create(`/apis/${GROUP}/${VERSION}/namespaces/${ns}/${DESTINATION_PLURAL}`, { apiVersion: `${GROUP}/${VERSION}`, kind: 'Destination', metadata: { name: condition }, spec: { type: 'CloudEvents', address: receiver.url } });
    await admin.create(`/apis/${GROUP}/${VERSION}/namespaces/${ns}/${NOTIFICATION_PLURAL}`, { apiVersion: `${GROUP}/${VERSION}`, kind: 'Notification', metadata: { name: condition }, spec: { destinationRef: { name: condition }, events: ['RunStarted', 'RunSucceeded'] } });
  }
  await createRunners(admin, ns, range(0, runners), () => ({ workloadSelector: { matchLabels: { app: deploymentName(shopOf(condition)) } } }));
}

/** Job creates by the operator in `ns` since `from`. */
const jobsSince = (ns: string, from: number) => audit.catchUp().jobCreates.filter((r) => r.user === OPERATOR_USER && r.namespace === ns && r.code < 300 && r.received >= from).length;

/** One rollout of the population's Deployment: the latency of each of its Runners' Jobs, in ms. */
async function rollout(condition: Condition, round: number): Promise<number[]> {
  const ns = namespaceOf(condition);
  const from = Date.now();
  await rollOut(admin, ns, shopOf(condition), `round-${round}`);
  const deadline = Date.now() + 120_000;
  while (jobsSince(ns, from) < runners) {
    if (Date.now() > deadline) throw new Error(`${condition}: ${jobsSince(ns, from)} of ${runners} Jobs within 120 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const measured = triggerLatencies(audit, OPERATOR_USER, ns, from, Date.now() + 1, () => deploymentName(shopOf(condition))).map((t) => t.ms);
  await runsFinishedSince(ns, from);
  return measured;
}

/** Waits until every Runner of `ns` has finished a run that started after `from`: the next rollout waits for none. */
async function runsFinishedSince(ns: string, from: number): Promise<void> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const list = await admin.get<{ items: { status?: { state?: string; lastRun?: { startTime?: string } } }[] }>(`/apis/${GROUP}/${VERSION}/namespaces/${ns}/runners`);
    const done = list.items.filter((r) => r.status?.state === 'Succeeded' && Date.parse(r.status.lastRun?.startTime ?? '') >= from - 1000).length;
    if (done === runners) return;
    if (Date.now() > deadline) throw new Error(`${ns}: ${done} of ${runners} runs finished after 300 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const op = await startOperator(ctx);
const latencies: Record<Condition, number[]> = { none: [], hanging: [], unavailable: [], accepting: [] };
const roundMedians: Record<Condition, number[]> = { none: [], hanging: [], unavailable: [], accepting: [] };
try {
  await Promise.all(CONDITIONS.map(population));
  for (const c of CONDITIONS) await waitForStates(admin, namespaceOf(c), runners, 'Succeeded', 300_000);
  await quiet(ctx);
  log(`${runners} Runners in each of ${CONDITIONS.map(namespaceOf).join(', ')}; first runs done`);
  for (let round = 0; round < rounds; round++) {
    const order = CONDITIONS.map((_, k) => CONDITIONS[(k + round) % CONDITIONS.length]!);
    for (const c of order) {
      const measured = await rollout(c, round);
      latencies[c].push(...measured);
      roundMedians[c].push(median(measured));
      log(`round ${round + 1}, ${c}: median ${median(measured).toFixed(0)} ms over ${measured.length} Jobs`);
    }
  }
  const summary = Object.fromEntries(CONDITIONS.map((c) => [c, { medianMs: median(latencies[c]), roundMediansMs: roundMedians[c], jobs: latencies[c].length }]));
  const ratio = (c: Condition) => median(latencies[c]) / median(latencies.none);
  log(`median rollout → Job latency: none ${median(latencies.none).toFixed(0)} ms, ${CONDITIONS.slice(1).map((c) => `${c} ${median(latencies[c]).toFixed(0)} ms (× ${ratio(c).toFixed(2)})`).join(', ')}`);
  log(`requests the receivers got meanwhile: hanging ${hanging.requests.length} (none answered), 503 ${unavailable.requests.length}, accepting ${accepting.accepted().length} (${new Set(accepting.events().map((e) => e.id)).size} distinct notices)`);
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, JSON.stringify({ date: new Date().toISOString(), node: process.version, runners, rounds, summary, ratios: Object.fromEntries(CONDITIONS.slice(1).map((c) => [c, ratio(c)])), received: { hanging: hanging.requests.length, unavailable: unavailable.requests.length, accepting: accepting.accepted().length } }, null, 2));
  log(`wrote ${values.out}`);
} finally {
  await stop(op);
  await Promise.all([hanging.close(), unavailable.close(), accepting.close()]);
}
process.exit(0);
