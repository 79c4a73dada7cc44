import { readFileSync } from 'node:fs';
import { loadAllYaml } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { SPEC_DEFAULTS, type RunnerSpec } from '../../src/api/runner.ts';
import { cronExpressionProblem, describeProblems, validateRunnerSpec, withDefaults } from '../../src/runner/spec/spec.ts';

const minimalTemplate = { spec: { containers: [{ name: 'check', image: 'busybox' }] } };
const specWith = (fields: Record<string, unknown>): Record<string, unknown> => ({ template: minimalTemplate, ...fields });
const fieldsOf = (spec: unknown): string[] => validateRunnerSpec(spec).map((p) => p.field);

const samples = (file: string): Array<{ kind: string; metadata: { name: string }; spec: unknown }> =>
  loadAllYaml(readFileSync(new URL(`../../deploy/samples/${file}`, import.meta.url), 'utf8'));

describe('validateRunnerSpec accepts what users write', () => {
  it.each(['runner-generic.yaml', 'runner-scheduled.yaml', 'runner-chain.yaml', 'runner-failing.yaml', 'runner-helmrelease.yaml', 'runner-argocd-application.yaml', 'runner-probe.yaml', 'runner-junit.yaml', 'runner-advisory.yaml', 'runner-flaky.yaml'])(
    'accepts the sample Runners of %s (the SPEC §8 examples unchanged, and the §2.3 ones)',
    (file) => {
      const runners = samples(file).filter((o) => o.kind === 'Runner');
      expect(runners.length).toBeGreaterThan(0);
      for (const runner of runners) expect(validateRunnerSpec(runner.spec), runner.metadata.name).toEqual([]);
    },
  );

  it('accepts every optional field of SPEC §2.2 set to a sensible value', () => {
    const spec = specWith({
      schedule: '*/5 9-17 * * MON-FRI',
      timeZone: 'Europe/Berlin',
      suspend: true,
      concurrencyPolicy: 'Replace',
      startingDeadlineSeconds: 0,
      deadlineSeconds: 600,
      backoffLimit: 0,
      ttlSecondsAfterFinished: 0,
      successfulRunsHistoryLimit: 10,
      failedRunsHistoryLimit: 0,
      stableStateTimeout: '1h30m',
      jobName: 'smoke',
      namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system'] }] },
      workloadSelector: {
        matchLabels: { 'app.kubernetes.io/name': 'shop' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['web', 'api'] },
          { key: 'canary', operator: 'DoesNotExist' },
          { key: 'team', operator: 'Exists', values: [] },
        ],
      },
    });
    expect(validateRunnerSpec(spec)).toEqual([]);
  });

  it.each(['@hourly', '@daily', '@weekly', '@monthly', '@yearly', '0 0 * * *', ' 0  12 1,15 * * ', '0 0 * * THU'])(
    'accepts the schedule %j',
    (schedule) => {
      expect(validateRunnerSpec(specWith({ schedule }))).toEqual([]);
    },
  );

  it.each(['UTC', 'Etc/UTC', 'America/Argentina/Buenos_Aires', 'Etc/GMT+1', 'Asia/Kolkata'])('accepts the time zone %j', (timeZone) => {
    expect(validateRunnerSpec(specWith({ timeZone }))).toEqual([]);
  });

  it('accepts an explicit OnFailure restart policy, which Jobs allow', () => {
    const template = { spec: { ...minimalTemplate.spec, restartPolicy: 'OnFailure' } };
    expect(validateRunnerSpec({ template })).toEqual([]);
  });

  it('accepts "0s", which disables the stable-state timeout', () => {
    expect(validateRunnerSpec(specWith({ stableStateTimeout: '0s' }))).toEqual([]);
  });
});

describe('validateRunnerSpec names the field and says what is wrong', () => {
  it('reports a cron value out of range with the library reason', () => {
    expect(validateRunnerSpec(specWith({ schedule: '61 * * * *' }))).toEqual([
      {
        field: 'spec.schedule',
        message: 'spec.schedule: "61 * * * *" is not a valid cron expression: Constraint error, got value 61 expected range 0-59',
      },
    ]);
  });

  it.each([
    ['0 * * * * *', '6 fields, expected 5', 'seconds field is not supported'],
    ['* * * *', '4 fields, expected 5', ''],
    ['garbage', '1 fields, expected 5', ''],
    ['', 'empty', ''],
    ['@minutely', 'unknown macro @minutely', ''],
    ['@every 5m', 'unknown macro', ''],
    ['H * * * *', 'hashed value "H"', ''],
    ['0 0 31 2 *', 'Invalid explicit day of month', ''],
    ['a b c d e', 'not a valid cron expression', ''],
  ])('refuses the schedule %j', (schedule, reason, more) => {
    const [only, ...rest] = validateRunnerSpec(specWith({ schedule }));
    expect(rest).toEqual([]);
    expect(only?.field).toBe('spec.schedule');
    expect(only?.message).toContain(`spec.schedule: ${JSON.stringify(schedule)} is not a valid cron expression`);
    expect(only?.message).toContain(reason);
    expect(only?.message).toContain(more);
  });

  it('refuses a schedule that is not a string', () => {
    expect(fieldsOf(specWith({ schedule: 5 }))).toEqual(['spec.schedule']);
  });

  it.each(['Mars/Olympus', '+01:00', 'UTC+1', 'Local', '', 'Europe/ Berlin'])('refuses the time zone %j', (timeZone) => {
    const problems = validateRunnerSpec(specWith({ timeZone }));
    expect(problems.map((p) => p.field)).toEqual(['spec.timeZone']);
    expect(problems[0]?.message).toContain(`${JSON.stringify(timeZone)} is not a valid time zone`);
  });

  it('refuses a Runner without a template', () => {
    expect(validateRunnerSpec({})).toEqual([
      { field: 'spec.template', message: 'spec.template: is required: a pod template with at least one container' },
    ]);
  });

  it('refuses a template without a pod spec', () => {
    expect(fieldsOf({ template: { metadata: {} } })).toEqual(['spec.template.spec']);
  });

  it.each([[{}], [{ containers: [] }], [{ containers: 'busybox' }]])('refuses a pod spec without containers: %j', (podSpec) => {
    const problems = validateRunnerSpec({ template: { spec: podSpec } });
    expect(problems).toEqual([
      { field: 'spec.template.spec.containers', message: 'spec.template.spec.containers: must list at least one container' },
    ]);
  });

  it('refuses containers without a name or image, with a bad name, or with a duplicate name', () => {
    const containers = [{ image: 'busybox' }, { name: 'check' }, { name: 'Bad_Name', image: 'x' }, { name: 'a', image: 'x' }, { name: 'a', image: 'y' }, 'nope'];
    expect(fieldsOf({ template: { spec: { containers } } })).toEqual([
      'spec.template.spec.containers[0].name',
      'spec.template.spec.containers[1].image',
      'spec.template.spec.containers[2].name',
      'spec.template.spec.containers[4].name',
      'spec.template.spec.containers[5]',
    ]);
  });

  it('refuses restartPolicy Always, which a Job would refuse when the run starts', () => {
    const problems = validateRunnerSpec({ template: { spec: { ...minimalTemplate.spec, restartPolicy: 'Always' } } });
    expect(problems.map((p) => p.field)).toEqual(['spec.template.spec.restartPolicy']);
    expect(problems[0]?.message).toContain('use Never or OnFailure');
  });

  it('names the exact matchExpressions entry whose operator is unknown', () => {
    const workloadSelector = { matchExpressions: [{ key: 'a', operator: 'In', values: ['x'] }, { key: 'b', operator: 'Gt', values: ['1'] }] };
    expect(validateRunnerSpec(specWith({ workloadSelector }))).toEqual([
      {
        field: 'spec.workloadSelector.matchExpressions[1].operator',
        message: 'spec.workloadSelector.matchExpressions[1].operator: "Gt" is not a valid operator (use In, NotIn, Exists, DoesNotExist)',
      },
    ]);
  });

  it.each([
    [{ key: 'a', operator: 'In' }, 'must list at least one value for operator In'],
    [{ key: 'a', operator: 'NotIn', values: [] }, 'must list at least one value for operator NotIn'],
    [{ key: 'a', operator: 'Exists', values: ['x'] }, 'must be empty for operator Exists'],
    [{ key: 'a', operator: 'DoesNotExist', values: ['x'] }, 'must be empty for operator DoesNotExist'],
  ])('checks values against the operator: %j', (requirement, message) => {
    expect(validateRunnerSpec(specWith({ runnerSelector: { matchExpressions: [requirement] } }))).toEqual([
      { field: 'spec.runnerSelector.matchExpressions[0].values', message: `spec.runnerSelector.matchExpressions[0].values: ${message}` },
    ]);
  });

  it('refuses label keys and values that no object could carry', () => {
    const namespaceSelector = {
      matchLabels: { 'bad key': 'x', ok: 'not ok!' },
      matchExpressions: [{ key: 'Example.com/x', operator: 'In', values: ['-x'] }, { operator: 'Exists' }],
    };
    expect(fieldsOf(specWith({ namespaceSelector }))).toEqual([
      'spec.namespaceSelector.matchLabels[bad key]',
      'spec.namespaceSelector.matchLabels[ok]',
      'spec.namespaceSelector.matchExpressions[0].key',
      'spec.namespaceSelector.matchExpressions[0].values[0]',
      'spec.namespaceSelector.matchExpressions[1].key',
    ]);
  });

  it('refuses a selector that is not an object', () => {
    expect(fieldsOf(specWith({ workloadSelector: 'app=my-app' }))).toEqual(['spec.workloadSelector']);
  });

  it.each([
    'deadlineSeconds',
    'startingDeadlineSeconds',
    'backoffLimit',
    'ttlSecondsAfterFinished',
    'successfulRunsHistoryLimit',
    'failedRunsHistoryLimit',
  ])('refuses a negative or fractional %s', (field) => {
    expect(validateRunnerSpec(specWith({ [field]: -1 }))).toEqual([
      { field: `spec.${field}`, message: `spec.${field}: -1 must not be negative` },
    ]);
    expect(validateRunnerSpec(specWith({ [field]: 1.5 }))).toEqual([
      { field: `spec.${field}`, message: `spec.${field}: 1.5 must be a whole number` },
    ]);
    expect(fieldsOf(specWith({ [field]: '10' }))).toEqual([`spec.${field}`]);
  });

  it('refuses a backoffLimit that does not fit the Job field (int32)', () => {
    expect(validateRunnerSpec(specWith({ backoffLimit: 2 ** 31 }))[0]?.message).toContain('too large');
  });

  it.each([
    ['1d', 'unknown unit "d"'],
    ['30', 'missing unit'],
    ['-5m', 'must not be negative (use "0s" to disable)'],
  ])('refuses the stableStateTimeout %j', (stableStateTimeout, reason) => {
    const problems = validateRunnerSpec(specWith({ stableStateTimeout }));
    expect(problems.map((p) => p.field)).toEqual(['spec.stableStateTimeout']);
    expect(problems[0]?.message).toContain(reason);
  });

  it('refuses a concurrency policy other than Forbid or Replace', () => {
    expect(validateRunnerSpec(specWith({ concurrencyPolicy: 'Allow' }))).toEqual([
      { field: 'spec.concurrencyPolicy', message: 'spec.concurrencyPolicy: "Allow" is not a concurrency policy (use Forbid or Replace)' },
    ]);
  });

  it.each(['Smoke', 'smoke-', '-smoke', 'smoke.test', 'smoke_test', ''])('refuses the jobName %j (not a DNS-1123 label)', (jobName) => {
    expect(fieldsOf(specWith({ jobName }))).toEqual(['spec.jobName']);
  });

  it('accepts a 52-character jobName and refuses 53, leaving room for the run suffix', () => {
    expect(validateRunnerSpec(specWith({ jobName: 'a'.repeat(52) }))).toEqual([]);
    const problems = validateRunnerSpec(specWith({ jobName: 'a'.repeat(53) }));
    expect(problems.map((p) => p.field)).toEqual(['spec.jobName']);
    expect(problems[0]?.message).toContain('at most 52');
  });

  it('refuses a suspend that is not a boolean', () => {
    expect(fieldsOf(specWith({ suspend: 'true' }))).toEqual(['spec.suspend']);
  });

  it('accepts spec.advisory and spec.testResults as users write them, and names each wrong part', () => {
    expect(fieldsOf(specWith({ advisory: true, testResults: { format: 'JUnit' } }))).toEqual([]);
    expect(fieldsOf(specWith({ testResults: { format: 'JUnit', from: 'TerminationMessage' } }))).toEqual([]);
    expect(fieldsOf(specWith({ advisory: 'yes' }))).toEqual(['spec.advisory']);
    expect(fieldsOf(specWith({ testResults: 'junit' }))).toEqual(['spec.testResults']);
    expect(fieldsOf(specWith({ testResults: { format: 'TAP', from: 'Stdout' } }))).toEqual(['spec.testResults.format', 'spec.testResults.from']);
    const unknownContainer = validateRunnerSpec(specWith({ testResults: { format: 'JUnit', container: 'tests' } }));
    expect(unknownContainer.map((p) => p.field)).toEqual(['spec.testResults.container']);
    expect(unknownContainer[0]?.message).toMatch(/^spec\.testResults\.container: "tests" is not a container of spec\.template \(".+"\)$/);
  });

  it('reports every problem at once, in spec order', () => {
    const spec = { schedule: '* * *', deadlineSeconds: -1, jobName: 'X' };
    expect(fieldsOf(spec)).toEqual(['spec.template', 'spec.schedule', 'spec.deadlineSeconds', 'spec.jobName']);
    expect(describeProblems(validateRunnerSpec(spec)).split('; ')).toHaveLength(4);
  });
});

describe('validateRunnerSpec never throws', () => {
  it.each([undefined, null, 42, 'spec', [], [minimalTemplate]])('reports a spec that is not an object: %j', (spec) => {
    expect(validateRunnerSpec(spec)).toEqual([{ field: 'spec', message: 'spec: is required and must be an object' }]);
  });

  it('survives nonsense in every field', () => {
    const nonsense = [null, 0, -1, 'x', [], {}, [null], { a: [1] }, true];
    for (const value of nonsense) {
      const spec = Object.fromEntries(
        ['template', 'schedule', 'timeZone', 'workloadSelector', 'runnerSelector', 'namespaceSelector', 'deadlineSeconds',
          'jobName', 'suspend', 'concurrencyPolicy', 'stableStateTimeout', 'backoffLimit'].map((k) => [k, value]),
      );
      expect(() => validateRunnerSpec(spec)).not.toThrow();
      expect(() => validateRunnerSpec({ template: { spec: { containers: value } }, workloadSelector: { matchExpressions: [value], matchLabels: value } })).not.toThrow();
    }
  });
});

describe('cronExpressionProblem', () => {
  it('is undefined for a valid expression and a reason otherwise', () => {
    expect(cronExpressionProblem('* * * * *')).toBeUndefined();
    expect(cronExpressionProblem('*/0 * * * *')).toMatch(/cannot repeat at every 0 time/);
  });
});

describe('withDefaults fills in what the spec leaves out', () => {
  const spec: RunnerSpec = { template: { spec: { containers: [{ name: 'check', image: 'busybox' }] } } };

  it('uses the defaults of SPEC §2 and restartPolicy Never', () => {
    const effective = withDefaults(spec);
    expect(effective).toMatchObject({
      timeZone: 'UTC',
      suspend: false,
      concurrencyPolicy: 'Forbid',
      backoffLimit: 1,
      ttlSecondsAfterFinished: 1800,
      successfulRunsHistoryLimit: 3,
      failedRunsHistoryLimit: 1,
      stableStateTimeout: '30m',
      stableStateTimeoutMs: 30 * 60_000,
    });
    expect(effective.template.spec.restartPolicy).toBe('Never');
    expect(effective.jobName).toBeUndefined();
    expect(SPEC_DEFAULTS.backoffLimit).toBe(effective.backoffLimit);
  });

  it('keeps every value the user set, including zeros and false', () => {
    const effective = withDefaults({
      ...spec,
      template: { spec: { ...spec.template.spec!, restartPolicy: 'OnFailure' } },
      suspend: false,
      concurrencyPolicy: 'Replace',
      backoffLimit: 0,
      ttlSecondsAfterFinished: 0,
      successfulRunsHistoryLimit: 0,
      failedRunsHistoryLimit: 0,
      stableStateTimeout: '0s',
      timeZone: 'Asia/Tokyo',
      jobName: 'smoke',
      schedule: '@daily',
    });
    expect(effective).toMatchObject({
      concurrencyPolicy: 'Replace',
      backoffLimit: 0,
      ttlSecondsAfterFinished: 0,
      successfulRunsHistoryLimit: 0,
      failedRunsHistoryLimit: 0,
      stableStateTimeout: '0s',
      stableStateTimeoutMs: 0,
      timeZone: 'Asia/Tokyo',
      jobName: 'smoke',
      schedule: '@daily',
    });
    expect(effective.template.spec.restartPolicy).toBe('OnFailure');
  });

  it('does not change the spec it is given', () => {
    const before = structuredClone(spec);
    withDefaults(spec);
    expect(spec).toEqual(before);
  });

  it('reads stableStateTimeout into milliseconds', () => {
    expect(withDefaults({ ...spec, stableStateTimeout: '1h30m' }).stableStateTimeoutMs).toBe(90 * 60_000);
  });
});

describe('validateRunnerSpec on what the bad-input suite found', () => {
  const nestedIn = (depth: number) => {
    let value: unknown = 'leaf';
    for (let i = 0; i < depth; i += 1) value = { a: value };
    return value;
  };

  it('names an unknown pod field nested deeper than any pod field, however deep (the API server accepts 10,000 levels)', () => {
    const spec = { template: { spec: { ...minimalTemplate.spec, 'x-unknown': nestedIn(10_000) } } };
    const [first, ...rest] = validateRunnerSpec(spec);
    expect(rest).toEqual([]);
    expect(first!.field).toMatch(/^spec\.template\.spec\.x-unknown(\.a)+$/);
    expect(first!.message).toContain('is nested more than 32 levels deep below spec.template');
  });

  it('accepts the deepest real pod fields (affinity terms)', () => {
    const affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] },
      },
    };
    expect(validateRunnerSpec({ template: { spec: { ...minimalTemplate.spec, affinity } } })).toEqual([]);
  });

  it.each([
    ['a label key with a space', { labels: { 'bad key': 'x' } }, 'spec.template.metadata.labels[bad key]'],
    ['a label value of 64 characters', { labels: { team: 'v'.repeat(64) } }, 'spec.template.metadata.labels[team]'],
    ['an annotation that is a number', { annotations: { note: 5 } }, 'spec.template.metadata.annotations[note]'],
    ['annotations over 256 KiB', { annotations: { note: 'x'.repeat(300_000) } }, 'spec.template.metadata.annotations'],
    ['metadata that is a list', [], 'spec.template.metadata'],
  ])('names the pod template metadata field for %s (the Job API would refuse it)', (_, metadata, field) => {
    expect(fieldsOf({ template: { ...minimalTemplate, metadata } })).toEqual([field]);
  });

  it('keeps a message short when a value is huge or the problems are many', () => {
    const huge = validateRunnerSpec(specWith({ workloadSelector: { matchLabels: { a: 'x '.repeat(500_000) } } }));
    expect(huge[0]!.message.length).toBeLessThan(400);
    expect(huge[0]!.message).toContain('(1000002 characters)');
    const many = validateRunnerSpec(specWith({ workloadSelector: { matchLabels: Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`bad key ${i}`, 'v'])) } }));
    expect(many).toHaveLength(5_000);
    const message = describeProblems(many);
    expect(message.length).toBeLessThan(4_000);
    expect(message).toMatch(/; and 4990 more problems$/);
  });
});
