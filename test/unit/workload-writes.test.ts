// The check that ends every run of the integration and disruptive suites: the operator's identity never wrote
// to a workload (SPEC §6). Shown here on made-up audit logs, down to the exit code of a vitest run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OPERATOR_USER } from '../integration/support/operator-user.ts';
import { workloadWritesBy, type AuditLine } from '../integration/support/workload-writes.ts';

let counter = 0;
function line(verb: string, apiGroup: string, resource: string, options: { user?: string; as?: string; subresource?: string; code?: number } = {}): string {
  const entry: AuditLine = {
    auditID: `id-${counter++}`,
    verb,
    user: { username: options.user ?? OPERATOR_USER },
    ...(options.as ? { impersonatedUser: { username: options.as } } : {}),
    objectRef: { apiGroup, resource, namespace: 'shop', name: 'cart', ...(options.subresource ? { subresource: options.subresource } : {}) },
    responseStatus: { code: options.code ?? 200 },
  };
  return JSON.stringify(entry);
}

describe('finding writes to workloads in an audit log', () => {
  it('finds create, update, patch and delete of each workload kind, subresources included', () => {
    const log = [
      line('create', 'apps', 'deployments'),
      line('update', 'apps', 'statefulsets'),
      line('patch', 'apps', 'daemonsets', { subresource: 'status' }),
      line('patch', 'apps', 'deployments', { subresource: 'scale' }),
      line('delete', 'apps.openshift.io', 'deploymentconfigs'),
      line('deletecollection', 'apps', 'deployments'),
    ].join('\n');
    expect(workloadWritesBy(OPERATOR_USER, log).writes).toEqual([
      'create deployments shop/cart (HTTP 200)',
      'update statefulsets shop/cart (HTTP 200)',
      'patch daemonsets/status shop/cart (HTTP 200)',
      'patch deployments/scale shop/cart (HTTP 200)',
      'delete deploymentconfigs shop/cart (HTTP 200)',
      'deletecollection deployments shop/cart (HTTP 200)',
    ]);
  });

  it('counts an attempt the API server refused, and a write made by impersonating the operator', () => {
    const log = [line('patch', 'apps', 'deployments', { code: 403 }), line('update', 'apps', 'deployments', { user: 'admin', as: OPERATOR_USER })].join('\n');
    expect(workloadWritesBy(OPERATOR_USER, log).writes).toHaveLength(2);
  });

  it('ignores reads of workloads, writes to other kinds, and other users', () => {
    const log = [
      line('list', 'apps', 'deployments'),
      line('watch', 'apps', 'statefulsets'),
      line('get', 'apps.openshift.io', 'deploymentconfigs'),
      line('create', 'batch', 'jobs'),
      line('create', '', 'events'),
      line('patch', 'e2e.stakater.com', 'runners', { subresource: 'status' }),
      line('update', 'apps', 'deployments', { user: 'kwok-admin' }),
      line('update', 'apps', 'deployments', { user: OPERATOR_USER, as: 'someone-else' }),
    ].join('\n');
    expect(workloadWritesBy(OPERATOR_USER, log)).toEqual({ requests: 6, writes: [] });
  });
});

describe('the end of an integration run', () => {
  const config = 'test/unit/fixtures/audit-teardown/vitest.config.ts';
  const vitest = new URL('../../node_modules/vitest/vitest.mjs', import.meta.url).pathname;

  /** `rotated` goes where the API server moves a full log: audit-<time>.log beside audit.log. */
  function runWithAuditLog(text: string, rotated?: string) {
    const dir = mkdtempSync(join(tmpdir(), 'hestia-audit-'));
    const file = join(dir, 'audit.log');
    writeFileSync(file, text);
    if (rotated !== undefined) writeFileSync(join(dir, 'audit-2026-11-27T12-00-00.000.log'), rotated);
    return spawnSync(process.execPath, [vitest, 'run', '--config', config], {
      env: { ...process.env, HESTIA_AUDIT_LOG: file },
      encoding: 'utf8',
    });
  }

  it('passes when the operator only read workloads', () => {
    const run = runWithAuditLog([line('list', 'apps', 'deployments'), line('create', 'batch', 'jobs')].join('\n'));
    expect(run.stdout).toContain(`audit log (1 file): 2 requests by ${OPERATOR_USER}, none of them a write`);
    expect(run.status).toBe(0);
  });

  it('fails, although every test passed, when the operator wrote to a Deployment', () => {
    const run = runWithAuditLog([line('list', 'apps', 'deployments'), line('patch', 'apps', 'deployments')].join('\n'));
    expect(run.stdout + run.stderr).toContain('wrote to workloads 1 time(s)');
    expect(run.stdout + run.stderr).toContain('patch deployments shop/cart (HTTP 200)');
    expect(run.status).not.toBe(0);
  }, 30_000);

  it('reads the files the API server rotated out of the log too', () => {
    const run = runWithAuditLog(line('list', 'apps', 'deployments'), line('update', 'apps', 'statefulsets'));
    expect(run.stdout + run.stderr).toContain('update statefulsets shop/cart (HTTP 200)');
    expect(run.status).not.toBe(0);
  }, 30_000);
});
