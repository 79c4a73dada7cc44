import { describe, expect, it } from 'vitest';
import type { V1Lease } from '@kubernetes/client-node';
import { leaseState } from '../../src/leader.ts';
import { leaseSettingsFrom } from '../../src/main.ts';

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
  it('is off unless HESTIA_LEADER_ELECTION=true', () => {
    expect(leaseSettingsFrom({})).toBeNull();
  });
  it('takes the namespace and identity from the pod, and renews three times per lease', () => {
    expect(leaseSettingsFrom({ HESTIA_LEADER_ELECTION: 'true', POD_NAMESPACE: 'ops', POD_NAME: 'hestia-1', HESTIA_LEASE_SECONDS: '9' })).toEqual({
      namespace: 'ops', name: 'hestia-operator', identity: 'hestia-1', durationSeconds: 9, retrySeconds: 3,
    });
  });
});
