// What a watch cache keeps of each object: the source's `slim` projection, guarded. An object `slim`
// throws on (a shape it did not foresee) is left out — its last projection, if any, stays — rather than
// cached whole: what cannot be projected cannot be read by the operator either, a whole object costs the
// memory the projection saves, and dropping the last projection would tell the object as deleted when
// it is not. The throw must not reach the watch: the watch would be re-opened from before the object and
// replay it forever. Each such object is logged once per version.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';

export class Projection<T extends KubernetesObject> {
  private readonly slim: ((object: KubernetesObject) => T) | undefined;
  private readonly log: Logger;
  /** Objects `slim` threw on, each with the resourceVersion it threw on. */
  private readonly failing = new Map<string, string>();
  /** Object versions left out so far. */
  skipped = 0;

  constructor(slim: ((object: KubernetesObject) => T) | undefined, log: Logger) {
    this.slim = slim;
    this.log = log;
  }

  /** The object as cached, or undefined if it cannot be projected. */
  of(key: string, object: KubernetesObject): T | undefined {
    if (!this.slim) return object as T;
    try {
      const projected = this.slim(object);
      this.failing.delete(key);
      return projected;
    } catch (err) {
      const version = object.metadata?.resourceVersion ?? '';
      this.skipped += 1;
      if (this.failing.get(key) !== version) {
        this.failing.set(key, version);
        this.log.error({ object: key, resourceVersion: version, err: err instanceof Error ? err.message : String(err) }, `could not reduce ${key} for the cache; left it out`);
      }
      return undefined;
    }
  }

  /** The object is gone: a namesake that fails again is logged again. */
  forget(key: string): void {
    this.failing.delete(key);
  }
}
