// Authenticating exactly as a ServiceAccount would in a pod: a token from the TokenRequest API in
// a kubeconfig holding nothing else, and the token's id as the audit log records each request.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { core, kc } from './kube.ts';

/** The token's id as the API server records it with every request made with it (user.extra). */
export function credentialId(token: string): string {
  const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { jti: string };
  return `JTI=${payload.jti}`;
}

/** A kubeconfig holding the API server's address and CA, and the token: nothing else to authenticate with. */
export function tokenOnlyKubeconfig(token: string, user = 'service-account'): string {
  const cluster = kc.getCurrentCluster()!;
  const caData = cluster.caData ?? readFileSync(cluster.caFile!).toString('base64');
  const only = new KubeConfig();
  only.loadFromOptions({
    clusters: [{ name: 'hestia', server: cluster.server, caData, skipTLSVerify: false }],
    users: [{ name: user, token }],
    contexts: [{ name: 'hestia', cluster: 'hestia', user }],
    currentContext: 'hestia',
  });
  const file = join(mkdtempSync(join(tmpdir(), 'hestia-sa-')), 'kubeconfig');
  writeFileSync(file, only.exportConfig(), { mode: 0o600 });
  return file;
}

/** A fresh token of the ServiceAccount (an hour long). */
export async function serviceAccountToken(namespace: string, name: string): Promise<string> {
  const { status } = await core.createNamespacedServiceAccountToken({ namespace, name, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  return status!.token!;
}
