// What the notifier knows of each Destination besides its object: how it resolved (src/notify/destinations.ts) and
// when, the connection agent its deliveries share, and how its deliveries have been going. Resolved again when the
// Destination changes, after RESOLVE_EVERY_MS (a rotated Secret is picked up without a watch of Secrets), after a
// 401/403, and — one that could not be resolved — UNRESOLVED_RETRY_MS later by itself, so that its status follows a
// Secret created after it.
import type { Agent } from 'node:http';
import type { V1Secret } from '@kubernetes/client-node';
import { objectPath } from '../k8s/api-paths.ts';
import type { KubeClient } from '../k8s/client.ts';
import { errorText } from '../k8s/informer.ts';
import type { Destination } from './api.ts';
import { decodeSecretData, RESOLVE_EVERY_MS, resolveDestination, type Resolution } from './destinations.ts';

/** A Destination that could not be read (its Secret missing or unreadable) is read again this soon. */
export const UNRESOLVED_RETRY_MS = 30_000;

export interface DestinationState {
  resolution: Resolution | null;
  resolvedAt: number;
  generation: number | undefined;
  resolving: Promise<Resolution> | null;
  retry: NodeJS.Timeout | null;
  agent: Agent | null;
  /** Failed deliveries in a row, and the last one's reason. */
  streak: number;
  lastFailure: string;
  /** Notices dropped since the last Event that said so, the last of them in words, when that Event was, and the timer of the next. */
  dropped: number;
  lastDrop: string;
  dropEventAt: number;
  dropTimer: NodeJS.Timeout | null;
}

export interface DestinationStatesDeps {
  client: KubeClient;
  now: () => number;
  allowLocal: boolean;
  destination(key: string): Destination | undefined;
  /** A resolution finished; `canDeliverAgain`: it failed before and succeeds now. */
  resolved(key: string, canDeliverAgain: boolean): void;
}

export class DestinationStates {
  private readonly states = new Map<string, DestinationState>();
  private readonly deps: DestinationStatesDeps;
  private stopped = false;

  constructor(deps: DestinationStatesDeps) {
    this.deps = deps;
  }

  get(key: string): DestinationState | undefined {
    return this.states.get(key);
  }

  stateOf(key: string): DestinationState {
    let state = this.states.get(key);
    if (!state) {
      state = { resolution: null, resolvedAt: 0, generation: undefined, resolving: null, retry: null, agent: null, streak: 0, lastFailure: '', dropped: 0, lastDrop: '', dropEventAt: 0, dropTimer: null };
      this.states.set(key, state);
    }
    return state;
  }

  delete(key: string): void {
    const state = this.states.get(key);
    state?.agent?.destroy();
    if (state?.retry) clearTimeout(state.retry);
    if (state?.dropTimer) clearTimeout(state.dropTimer);
    this.states.delete(key);
  }

  /** No more resolving on a timer. */
  stop(): void {
    this.stopped = true;
    for (const s of this.states.values()) {
      if (s.retry) clearTimeout(s.retry);
      if (s.dropTimer) clearTimeout(s.dropTimer);
    }
  }

  /** Lets the connections go. */
  close(): void {
    for (const s of this.states.values()) s.agent?.destroy();
  }

  /** The Destination resolved: what is known if it is fresh, else read now (one read at a time per Destination). */
  resolution(key: string, state: DestinationState): Promise<Resolution> {
    const d = this.deps.destination(key);
    if (!d) return Promise.resolve({ ok: false, reason: 'InvalidSpec', message: `no Destination ${key}` });
    const fresh = state.resolution && state.generation === d.metadata.generation && this.deps.now() - state.resolvedAt < RESOLVE_EVERY_MS;
    if (fresh) return Promise.resolve(state.resolution!);
    state.resolving ??= resolveDestination(d, (ns, name) => this.readSecret(ns, name), this.deps.allowLocal)
      .catch((err: unknown): Resolution => ({ ok: false, reason: 'SecretUnreadable', message: `spec.secretRef.name: could not read Secret ${d.metadata.namespace}/${d.spec?.secretRef?.name} (retrying): ${errorText(err)}` }))
      .then((r) => {
        if (this.states.get(key) !== state) return r;
        this.settle(key, state, r, d.metadata.generation);
        // The Destination changed while it was read: read it again as it is now.
        if (this.deps.destination(key)?.metadata.generation !== d.metadata.generation) setImmediate(() => void this.resolution(key, state));
        return r;
      })
      .finally(() => {
        state.resolving = null;
      });
    return state.resolving;
  }

  private settle(key: string, state: DestinationState, r: Resolution, generation: number | undefined): void {
    const targetOf = (x: Resolution | null) => (x?.ok ? JSON.stringify({ ...x.resolved.target, url: x.resolved.target.url.href }) : null);
    // Deliveries to another address, or with another token or CA, open connections of their own.
    if (targetOf(r) !== targetOf(state.resolution)) {
      state.agent?.destroy();
      state.agent = null;
    }
    const couldNot = state.resolution !== null && !state.resolution.ok;
    state.resolution = r;
    state.resolvedAt = this.deps.now();
    state.generation = generation;
    if (state.retry) clearTimeout(state.retry);
    state.retry = null;
    if (!r.ok && !this.stopped) {
      state.retry = setTimeout(() => {
        state.retry = null;
        state.resolvedAt = 0;
        void this.resolution(key, state);
      }, UNRESOLVED_RETRY_MS);
      state.retry.unref();
    }
    this.deps.resolved(key, r.ok && couldNot);
  }

  private async readSecret(namespace: string, name: string): Promise<{ type?: string; data: Record<string, string> } | null> {
    try {
      const secret = await this.deps.client.get<V1Secret>(objectPath('v1', 'secrets', namespace, name));
      return { ...(secret.type ? { type: secret.type } : {}), data: decodeSecretData(secret.data) };
    } catch (err) {
      if ((err as { code?: number }).code === 404) return null;
      throw err;
    }
  }
}
