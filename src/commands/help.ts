// The --help text of every command. `kubectl hestia …` and `hestia …` are the same program.
export const COMMANDS = ['run', 'describe', 'wait', 'trigger', 'runs', 'logs', 'diagram', 'ui'] as const;
export type Command = (typeof COMMANDS)[number];

const CONNECTION = `  -n, --namespace NS    the Runner's namespace (default: the kubeconfig context's, else "default")
      --kubeconfig FILE  kubeconfig to use (default: $KUBECONFIG, else ~/.kube/config)
      --context NAME     kubeconfig context to use
  -h, --help            this text`;

const EXIT_CODES = `Exit codes:
  0  the run succeeded
  1  the run failed (the Job, its trigger and the failed container's termination message are printed)
  2  timed out (--timeout) before the run finished
  3  the Runner cannot run, at once: invalid spec, dependency cycle, failed upstream, stable-state timeout, suspended
  4  could not wait: wrong usage, Runner not found, no access, API server unreachable
  5  the run ended in an error of the infrastructure, not of the check (image not pulled, pod evicted or
     its node lost, unschedulable, deadline): inconclusive, worth a retry`;

export const HELP: Record<Command | 'hestia', string> = {
  hestia: `hestia — the Hestia operator and its tools (also a kubectl plugin: kubectl hestia …)

Usage: hestia COMMAND [flags]

Commands:
  wait RUNNER        wait for the run of the Runner's current revision; exit 0 passed, 1 failed, 2 timeout, 3 cannot run, 5 error
  trigger RUNNER     request one run (--wait: and wait for it, with the exit codes of wait)
  runs RUNNER        the run history: start, duration, result, trigger, Job, message
  logs RUNNER        the logs of a run's pods, every attempt labelled (-f: follow the run in progress)
  describe RUNNER    why a Runner did or did not run
  ui                 a live web view of the Runners, each one's statechart lit, on 127.0.0.1 (opens the browser)
  run                run the operator (KUBECONFIG or in-cluster)
  diagram RUNNER     the Runner's state machine with its current state lit (SVG, or PNG with -o png)
  diagram            without RUNNER: write the state machine's diagrams to docs/

Run hestia COMMAND --help for a command's flags.
`,
  wait: `hestia wait RUNNER [flags] — wait for a Runner's verdict (kubectl hestia wait …)

Waits for the run of the Runner's current revision — the inputs as the operator sees them now, after
any rollout it has not reported yet — and exits with its result. With --after-now, waits for the next
run that starts from now instead.

Flags:
      --timeout DURATION  how long to wait (default 10m; Go syntax: 90s, 5m, 1h30m; 0 checks once)
      --after-now         wait for the next run that starts after this command, not the current revision's
  -o, --output json       print the verdict as JSON (stdout); progress lines are not printed
${CONNECTION}

${EXIT_CODES}

Example, as a CI step:
  kubectl apply -f app.yaml && kubectl hestia wait smoke -n qa --timeout=15m
`,
  trigger: `hestia trigger RUNNER [flags] — request one run now (kubectl hestia trigger …)

Sets the annotation runner.stakater.com/trigger to a new value: the Runner runs once for it as soon as
its inputs are satisfied (under concurrencyPolicy Forbid, after a run in progress).

Flags:
      --wait              wait for that run and exit with its result (the exit codes of hestia wait)
      --timeout DURATION  with --wait: how long to wait (default 10m)
      --value TEXT        the annotation value to set (default: cli-<time>-<random>; must differ from the current one)
  -o, --output json       print the result as JSON
${CONNECTION}

${EXIT_CODES.replace('Exit codes:', 'Exit codes with --wait (without it: 0 requested, 4 could not):')}
`,
  runs: `hestia runs RUNNER [flags] — a Runner's run history (kubectl hestia runs …)

One line per run, newest first: start, duration, result, trigger, Job and message, merged from
status.lastRun, the Jobs still kept (successfulRunsHistoryLimit, failedRunsHistoryLimit,
ttlSecondsAfterFinished) and the Runner's Events (kept by the API server for an hour by default).
A Job marked "(deleted)" is known from Events only.

Flags:
  -o, --output json       the history as JSON
${CONNECTION}
`,
  logs: `hestia logs RUNNER [flags] — the logs of a run's pods (kubectl hestia logs …)

Prints the logs of the latest run (status.lastRun), of an earlier run (--run N) or of a Job by name
(--job). A Job retried after a failure has one pod per attempt: each is printed, oldest first, under
a line such as
  ==> attempt 1 of 2: pod smoke-x7k2p (Failed: container check exited 3) <==
Such lines appear only when there is more than one pod or container to tell apart. Needs get on
pods/log and list on pods in the Runner's namespace.

Flags:
      --run N             the run numbered N (the RUN column of hestia runs; 1 is the Runner's first)
      --job NAME          the Job NAME of this Runner
  -c, --container NAME    only this container (default: every container of the pod template, in order;
                          an init container only when named)
      --tail N            the last N lines of each pod's container
  -f, --follow            stream the newest pod's log while it runs; returns when its container ends
${CONNECTION}

Exit codes:
  0  the logs were printed
  1  the run's Job or its pods are gone (history limits, ttlSecondsAfterFinished): what the Runner
     still knows about the run is printed instead
  4  wrong usage, Runner or run not found, no access (the permission missing is named), API server unreachable
`,
  describe: `hestia describe RUNNER [flags] — why a Runner did or did not run (kubectl hestia describe …)

Prints its state, which replica acts on it (when replicas share the Runners: read from their member
Leases, if you may list Leases), what it waits for, each selected workload, resource and upstream with
its readiness, what each probe answered last, its latest run and the Jobs kept.

Flags:
${CONNECTION}
`,
  run: `hestia run [--inspect[=ws://HOST:PORT]] [--allow-local-probes] [--allow-local-destinations] — run the operator

Uses KUBECONFIG, else the in-cluster service account. --inspect (or HESTIA_INSPECT) sends every
Runner actor to a Stately inspector WebSocket (docs/machine.md). Probes (spec.probes) and notification
Destinations never reach loopback, link-local or cloud metadata addresses unless --allow-local-probes
(HESTIA_PROBE_ALLOW_LOCAL=true) or --allow-local-destinations (HESTIA_NOTIFY_ALLOW_LOCAL=true) is given:
SECURITY.md says why. A Notification hears only Runners of its own namespace unless
--allow-cross-namespace-notifications (HESTIA_NOTIFY_CROSS_NAMESPACE=true).

Flags:
      --inspect[=URL]                         Stately inspector WebSocket (default ws://localhost:8080)
      --allow-local-probes                    let probes reach loopback and link-local addresses (a one-machine setup, tests)
      --allow-local-destinations              let notifications go to loopback and link-local addresses
      --allow-cross-namespace-notifications   let a Notification hear Runners of other namespaces
  -h, --help                                  this text
`,
  diagram: `hestia diagram [RUNNER] [flags] — the Runner machine's diagram (kubectl hestia diagram …)

With RUNNER: writes the diagram of the Runner machine with the state that Runner is in lit, its groups
lit more lightly (status.snapshot, else status.state; nothing is lit for a Runner without a state yet).
Each state's box in the SVG is a <g> with the id state-<path> (state-atRest.blocked.WaitingForWorkloads)
and the class "state"; the lit ones also have the class "lit".

Without RUNNER: writes the machine's diagrams to docs/ (docs/runner-machine.mmd and .svg, and the blocks
of docs/machine.md and README.md they appear in), as make diagram does.

Flags:
  -o, --output svg|png    the picture's format (default svg); a PNG goes to --file or a redirected stdout
      --file PATH         write the picture to PATH instead of stdout
${CONNECTION}

Example:
  kubectl hestia diagram smoke -n qa -o png --file smoke.png
`,
  ui: `hestia ui [flags] — a live web view of the Runners (kubectl hestia ui …)

Serves a page on 127.0.0.1 that lists the Runners of a namespace (-n) or of all (-A) with their state,
latest result, next run and marks (flaky, advisory, tests), and shows one Runner: its statechart with the
state it is in lit, why it waits (workloads, resources, upstreams, probes), its run history, a run's logs
and a Trigger button. It updates live from a watch; nothing is added to the cluster. It reads and
triggers with your kubeconfig's credentials, so it can see and do exactly what you may.

Prints http://127.0.0.1:PORT/?token=... and opens it in the browser (xdg-open, open): the token lets
that browser in and is exchanged for a cookie; other names than 127.0.0.1 and localhost are refused,
and so are requests that change something from any other page (SECURITY.md, "The local web view").
Runs until Ctrl-C.

Flags:
      --port N           the port to listen on (default 0: any free one)
  -n, --namespace NS     the namespace whose Runners are shown (default: the kubeconfig context's, else "default")
  -A, --all-namespaces   the Runners of every namespace
      --no-open          print the URL only; do not start a browser
      --kubeconfig FILE  kubeconfig to use (default: $KUBECONFIG, else ~/.kube/config)
      --context NAME     kubeconfig context to use
  -h, --help             this text
`,
};
