import { describe, expect, it } from 'vitest';
import type { V1Lease } from '@kubernetes/client-node';
import { leaseSettingsFrom, leaseState, observeLease, releasedLeaseSpec, type LeaseObservation } from '../../src/k8s/leader.ts';

// A Lease as another replica writes it: `renewTime` by *its* wall clock, which may be off from ours.
const lease = (holder: string, resourceVersion: string, renewTime: string, duration = 15): V1Lease => ({
  metadata: { name: 'hestia-operator', resourceVersion },
  spec: { holderIdentity: holder, leaseDurationSeconds: duration, renewTime: renewTime as never },
});

/** Reads `leases` in turn, at the given monotonic times (ms); returns the last observation. */
function observeAll(reads: [V1Lease | undefined, number][]): LeaseObservation | undefined {
  let observed: LeaseObservation | undefined;
  for (const [l, at] of reads) observed = observeLease(observed, l, at);
  return observed;
}

describe('leaseState', () => {
  it('is free when there is no Lease or no holder (never taken, or released)', () => {
    expect(leaseState(observeLease(undefined, undefined, 0), 'me', 0)).toBe('free');
    expect(leaseState(observeLease(undefined, { metadata: { resourceVersion: '1' }, spec: {} }, 0), 'me', 0)).toBe('free');
    expect(leaseState(observeLease(undefined, lease('', '2', '2030-01-01T00:00:00.000000Z', 1), 0), 'me', 0)).toBe('free');
  });
  it('is ours when we hold it, however old', () => {
    expect(leaseState(observeLease(undefined, lease('me', '1', '2000-01-01T00:00:00.000000Z'), 0), 'me', 1e9)).toBe('ours');
  });
  it('is held for the whole duration after we first saw the record, free after, whatever its renewTime says', () => {
    // A renewTime a day old by our clock: a fresh observation still waits the whole duration.
    const seen = observeLease(undefined, lease('other', '1', '2000-01-01T00:00:00.000000Z'), 1_000);
    expect(leaseState(seen, 'me', 1_000 + 14_999)).toBe('held');
    expect(leaseState(seen, 'me', 1_000 + 15_000)).toBe('free');
  });
  it('stays held while the holder keeps renewing, however far ahead our wall clock runs', () => {
    // The holder writes renewTime by its own clock (here years off ours); only that each renewal is a new record counts.
    const renewals = Array.from({ length: 20 }, (_, i) => [lease('other', String(10 + i), `2000-01-01T00:00:${String(i * 2).padStart(2, '0')}.000000Z`), i * 2_000] as [V1Lease, number]);
    expect(leaseState(observeAll(renewals), 'me', 19 * 2_000 + 2_000)).toBe('held');
  });
  it('expires a duration after the last change we saw, when the holder stops renewing', () => {
    const same = lease('other', '7', '2030-01-01T00:00:00.000000Z', 6);
    const observed = observeAll([[lease('other', '6', '2029-12-31T23:59:58.000000Z', 6), 0], [same, 2_000], [same, 4_000], [same, 7_999]]);
    expect(observed?.observedAt).toBe(2_000);
    expect(leaseState(observed, 'me', 7_999)).toBe('held');
    expect(leaseState(observed, 'me', 8_000)).toBe('free');
  });
  it('counts a change of resourceVersion alone as a new record (a write that kept the times)', () => {
    const first = observeLease(undefined, lease('other', '1', '2030-01-01T00:00:00.000000Z'), 0);
    expect(observeLease(first, lease('other', '1', '2030-01-01T00:00:00.000000Z'), 5_000)).toBe(first);
    expect(observeLease(first, lease('other', '2', '2030-01-01T00:00:00.000000Z'), 5_000)?.observedAt).toBe(5_000);
  });
});

describe('releasedLeaseSpec', () => {
  it("is client-go's release: no holder, a duration of 1 s, renewed now, transitions kept", () => {
    expect(releasedLeaseSpec({ holderIdentity: 'me', leaseDurationSeconds: 15, leaseTransitions: 3 }, new Date('2030-01-01T00:00:01.234Z'))).toEqual({
      holderIdentity: '', leaseDurationSeconds: 1, acquireTime: '2030-01-01T00:00:01.234000Z', renewTime: '2030-01-01T00:00:01.234000Z', leaseTransitions: 3,
    });
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
