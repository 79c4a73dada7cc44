// The one place API paths are built: the group-version's root (also its discovery document), a
// collection in all namespaces or one, and one object or its subresource. Every segment is encoded.

/** `/api/v1` for the core group, `/apis/apps/v1` for a named one. */
export const groupVersionPath = (apiVersion: string): string => (apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`);

/** `/apis/apps/v1/deployments`, or `/apis/apps/v1/namespaces/shop/deployments` in one namespace. */
export function collectionPath(apiVersion: string, plural: string, namespace?: string): string {
  const base = groupVersionPath(apiVersion);
  return namespace ? `${base}/namespaces/${encodeURIComponent(namespace)}/${plural}` : `${base}/${plural}`;
}

/** `/apis/batch/v1/namespaces/qa/jobs/smoke-1`, with `/status` (or another subresource) when given. */
export function objectPath(apiVersion: string, plural: string, namespace: string | undefined, name: string, subresource?: string): string {
  return `${collectionPath(apiVersion, plural, namespace)}/${encodeURIComponent(name)}${subresource ? `/${subresource}` : ''}`;
}
