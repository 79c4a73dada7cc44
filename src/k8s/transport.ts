// The connections under the client (src/k8s/client.ts): for one set of TLS material, an agent for
// requests and one for watches, neither with a socket cap, tunnelling through the proxy the
// Connection names. When the material changes (a rotated CA or client certificate) new agents
// replace the old, which finish what they carry.
import { Agent as HttpsAgent } from 'node:https';
import { Agent as HttpAgent } from 'node:http';

/** TLS material and options for the connections: ca, cert, key, rejectUnauthorized, servername. */
export interface TlsMaterial {
  ca?: Buffer | string;
  cert?: Buffer | string;
  key?: Buffer | string;
  rejectUnauthorized?: boolean;
  servername?: string;
}

export type Agent = HttpsAgent | HttpAgent;

/** The agents for one set of TLS material. */
export interface Transport {
  tls: TlsMaterial;
  requests: Agent;
  watches: Agent;
}

/** Idle connections kept for requests, as client-go's MaxIdleConnsPerHost. */
const IDLE_REQUEST_CONNECTIONS = 25;

/** New agents for this material; `proxy` (an http(s):// URL) is tunnelled through with CONNECT. */
export function newTransport(tls: TlsMaterial, secure: boolean, proxy: string | undefined): Transport {
  const options = {
    keepAlive: true,
    ...tls,
    // Explicit, so that NODE_USE_ENV_PROXY never adds a proxy of Node's choosing: src/k8s/proxy.ts chose.
    proxyEnv: proxy ? { [secure ? 'HTTPS_PROXY' : 'HTTP_PROXY']: proxy } : {},
  };
  const make = (extra: { maxFreeSockets?: number }): Agent => (secure ? new HttpsAgent({ ...options, ...extra }) : new HttpAgent({ ...options, ...extra }));
  return { tls, requests: make({ maxFreeSockets: IDLE_REQUEST_CONNECTIONS }), watches: make({}) };
}

/** Whether this Node version's agents tunnel through a proxy (the `proxyEnv` option: Node 22.21, 24.5). */
export function tunnelsThroughProxies(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 24 || (major === 24 && minor >= 5) || (major === 22 && minor >= 21);
}

/** Whether two sets of TLS material are the same (then the connections made with one serve the other). */
export function sameTls(a: TlsMaterial, b: TlsMaterial): boolean {
  if (a === b) return true;
  const same = (x: Buffer | string | undefined, y: Buffer | string | undefined) => x === y || (x !== undefined && y !== undefined && Buffer.from(x).equals(Buffer.from(y)));
  return same(a.ca, b.ca) && same(a.cert, b.cert) && same(a.key, b.key) && a.rejectUnauthorized === b.rejectUnauthorized && a.servername === b.servername;
}

/** Agents whose TLS material is outdated: what they carry now finishes, and no connection goes back to them. */
export function retire(transport: Transport): void {
  for (const agent of [transport.requests, transport.watches]) {
    agent.keepSocketAlive = () => false;
    dropIdle(agent);
  }
}

/** Closes the agent's idle connections, kept for reuse: none of them is handed out again. */
export function dropIdle(agent: Agent): void {
  for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
}
