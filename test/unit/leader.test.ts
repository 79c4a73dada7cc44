import { describe, expect, it } from 'vitest';
import type { V1Lease } from '@kubernetes/client-node';
import { leaseSettingsFrom, leaseState } from '../../src/k8s/leader.ts';

const lease = (holder: string, renewedSecondsAgo: number, duration = 15): V1Lease => ({
  spec: { holderIdentity: holder, leaseDurationSeconds: duration, renewTime: new Date(Date.parse('2030-01-01T00:00:00Z') - renewedSecondsAgo * 1000) as never },
});
const now = new Date('2030-01-01T00:00:00Z');

describe('leaseState', () => {
  it('is free when there is no Lease or no holder', () => {
    expect(leaseState(undefined, 'me', now)).toBe('free');
    expect(leaseState({ spec: {} }, 'me', now)).toBe('free');
  });
  it('is ours when we hold it, however old', () => {
    expect(leaseState(lease('me', 100), 'me', now)).toBe('ours');
  });
  it('is held while another holder renewed it within its duration, free after', () => {
    expect(leaseState(lease('other', 10), 'me', now)).toBe('held');
    expect(leaseState(lease('other', 16), 'me', now)).toBe('free');
  });
});

describe('leaseSettingsFrom', () => {
  const on = { HESTIA_LEADER_ELECTION: 'true', POD_NAMESPACE: 'ops', POD_NAME: 'hestia-1' };

  it('is off unless HESTIA_LEADER_ELECTION=true', () => {
    expect(leaseSettingsFrom({})).toBeNull();
    expect(leaseSettingsFrom({ HESTIA_LEADER_ELECTION: 'yes' })).toBeNull();
  });
  it("defaults to client-go's timing: lease 15 s, renew deadline 10 s, retry 2 s", () => {
    expect(leaseSettingsFrom(on)).toEqual({
      namespace: 'ops', name: 'hestia-operator', identity: 'hestia-1', durationSeconds: 15, renewDeadlineSeconds: 10, retrySeconds: 2,
    });
  });
  it('keeps those proportions when only the duration is given', () => {
    expect(leaseSettingsFrom({ ...on, HESTIA_LEASE_SECONDS: '30' })).toMatchObject({ durationSeconds: 30, renewDeadlineSeconds: 20, retrySeconds: 4 });
  });
  it('takes each setting from its own variable', () => {
    expect(leaseSettingsFrom({ ...on, HESTIA_LEASE_SECONDS: '8', HESTIA_LEASE_RENEW_DEADLINE_SECONDS: '5', HESTIA_LEASE_RETRY_SECONDS: '0.5' }))
      .toMatchObject({ durationSeconds: 8, renewDeadlineSeconds: 5, retrySeconds: 0.5 });
  });
  it('refuses a renew deadline that is not shorter than the lease, naming the variable', () => {
    expect(() => leaseSettingsFrom({ ...on, HESTIA_LEASE_SECONDS: '10', HESTIA_LEASE_RENEW_DEADLINE_SECONDS: '10' }))
      .toThrow(/^HESTIA_LEASE_RENEW_DEADLINE_SECONDS: 10 must be less than the lease duration/);
  });
  it('refuses a retry period that is not shorter than the renew deadline, naming the variable', () => {
    expect(() => leaseSettingsFrom({ ...on, HESTIA_LEASE_RETRY_SECONDS: '10' })).toThrow(/^HESTIA_LEASE_RETRY_SECONDS: 10 must be less than the renew deadline/);
  });
  it('refuses what is not a positive number of seconds, naming the variable', () => {
    for (const value of ['abc', '0', '-3', 'Infinity']) {
      expect(() => leaseSettingsFrom({ ...on, HESTIA_LEASE_SECONDS: value })).toThrow(/^HESTIA_LEASE_SECONDS: .* is not a positive number of seconds/);
    }
  });
});
