// Which proxy, if any, carries the connection to the API server, decided as kubectl (client-go) does:
// a cluster's `proxy-url` in the kubeconfig wins and always applies; otherwise HTTPS_PROXY (HTTP_PROXY
// for an http:// server) unless NO_PROXY names the server, both matched as Go's
// golang.org/x/net/http/httpproxy matches them: upper-case names before lower-case, a value without a
// scheme taken as http://, loopback and `localhost` never proxied, NO_PROXY entries being `*`, IPs,
// CIDRs, host names (matching their subdomains too), `.domain` or `*.domain` (subdomains only), each
// with an optional `:port`. Pure: the client tunnels (CONNECT) through what this returns.
import { BlockList, isIP } from 'node:net';

/** The proxy URL for requests to `server`, or undefined to connect directly. */
export function proxyFor(server: string, proxyUrl: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (proxyUrl) return normalisedProxyUrl(proxyUrl);
  const target = new URL(server);
  const secure = target.protocol === 'https:';
  const proxy = secure ? envAny(env, 'HTTPS_PROXY', 'https_proxy') : envAny(env, 'HTTP_PROXY', 'http_proxy');
  if (!proxy) return undefined;
  const port = target.port || (secure ? '443' : '80');
  if (!proxiedPast(envAny(env, 'NO_PROXY', 'no_proxy') ?? '', hostOf(target), port)) return undefined;
  return normalisedProxyUrl(proxy);
}

/** Whether a connection to `host:port` goes through the proxy, given NO_PROXY's value. */
export function proxiedPast(noProxy: string, host: string, port: string): boolean {
  const name = host.toLowerCase();
  if (name === 'localhost') return false;
  const family = isIP(name);
  if (family && isLoopback(name, family)) return false;
  return !parseNoProxy(noProxy).some((entry) => bypasses(entry, name, family, port));
}

type NoProxyEntry =
  | { kind: 'all' }
  | { kind: 'cidr'; list: BlockList }
  | { kind: 'ip'; ip: string; port: string }
  /** `suffix` starts with a dot; `orHost`: the bare name (suffix without its dot) matches too. */
  | { kind: 'domain'; suffix: string; orHost: boolean; port: string };

function parseNoProxy(noProxy: string): NoProxyEntry[] {
  const entries: NoProxyEntry[] = [];
  for (const raw of noProxy.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return [{ kind: 'all' }];
    const cidr = parseCidr(entry);
    if (cidr) {
      entries.push({ kind: 'cidr', list: cidr });
      continue;
    }
    const { host, port } = splitHostPort(entry);
    if (!host) continue;
    if (isIP(host)) {
      entries.push({ kind: 'ip', ip: host, port });
      continue;
    }
    const name = host.startsWith('*.') ? host.slice(1) : host;
    entries.push(name.startsWith('.') ? { kind: 'domain', suffix: name, orHost: false, port } : { kind: 'domain', suffix: `.${name}`, orHost: true, port });
  }
  return entries;
}

function bypasses(entry: NoProxyEntry, host: string, family: number, port: string): boolean {
  switch (entry.kind) {
    case 'all':
      return true;
    case 'cidr':
      return family !== 0 && entry.list.check(host, family === 6 ? 'ipv6' : 'ipv4');
    case 'ip':
      return family !== 0 && sameIp(entry.ip, host) && (!entry.port || entry.port === port);
    case 'domain':
      return (host.endsWith(entry.suffix) || (entry.orHost && host === entry.suffix.slice(1))) && (!entry.port || entry.port === port);
  }
}

function parseCidr(entry: string): BlockList | undefined {
  const slash = entry.indexOf('/');
  if (slash < 0) return undefined;
  const address = entry.slice(0, slash);
  const prefix = Number(entry.slice(slash + 1));
  const family = isIP(address);
  if (!family || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) return undefined;
  const list = new BlockList();
  list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
  return list;
}

/** `host:port`, `[v6]:port`, or a bare host (a bare IPv6 address has colons but no port). */
function splitHostPort(entry: string): { host: string; port: string } {
  const bracketed = /^\[([^\]]*)\](?::(\d*))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1] ?? '', port: bracketed[2] ?? '' };
  if (isIP(entry) === 6) return { host: entry, port: '' };
  const colon = entry.lastIndexOf(':');
  return colon >= 0 ? { host: entry.slice(0, colon), port: entry.slice(colon + 1) } : { host: entry, port: '' };
}

function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

function isLoopback(ip: string, family: number): boolean {
  if (family === 4) return ip.startsWith('127.');
  const list = new BlockList();
  list.addAddress('::1', 'ipv6');
  list.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');
  return list.check(ip, 'ipv6');
}

function sameIp(a: string, b: string): boolean {
  const list = new BlockList();
  list.addAddress(a, isIP(a) === 6 ? 'ipv6' : 'ipv4');
  return list.check(b, isIP(b) === 6 ? 'ipv6' : 'ipv4');
}

function envAny(env: NodeJS.ProcessEnv, ...names: string[]): string | undefined {
  for (const name of names) if (env[name]) return env[name];
  return undefined;
}

/** Go's parseProxy: `proxy:3128` means `http://proxy:3128`. Only http and https proxies can tunnel here. */
function normalisedProxyUrl(proxy: string): string {
  let url: URL | undefined;
  try {
    url = new URL(proxy);
  } catch {
    url = undefined;
  }
  if (!url?.host) url = new URL(`http://${proxy}`);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`proxy ${proxy}: only http:// and https:// proxies are supported (not ${url.protocol})`);
  return url.href;
}
