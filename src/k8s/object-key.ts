// The one key codec for namespaced objects: `namespace/name` (an empty namespace for cluster-scoped
// objects). Names and namespaces never hold a slash, so the first one splits the key.
import type { KubernetesObject } from '@kubernetes/client-node';

export interface ObjectName {
  namespace: string;
  name: string;
}

export const keyOf = (namespace: string, name: string): string => `${namespace}/${name}`;

export const objectKey = (o: KubernetesObject): string => keyOf(o.metadata?.namespace ?? '', o.metadata?.name ?? '');

export function parseKey(key: string): ObjectName {
  const slash = key.indexOf('/');
  return slash < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
