import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dump } from 'js-yaml';
import { fromKubeconfigFiles, kubeconfigPaths, loadConnection, mergeKubeconfigs } from '../../src/k8s/kubeconfig.ts';
import { proxiedPast, proxyFor } from '../../src/k8s/proxy.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kubeconfig-test-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a kubeconfig file (YAML) under the test's directory and returns its path. */
function kubeconfig(name: string, config: object): string {
  const path = join(dir, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, dump(config));
  return path;
}

const cluster = (name: string, server: string, extra: Record<string, unknown> = {}) => ({ name, cluster: { server, ...extra } });
const user = (name: string, fields: Record<string, unknown>) => ({ name, user: fields });
const context = (name: string, clusterName: string, userName: string) => ({ name, context: { cluster: clusterName, user: userName } });
const noEnv = {} as NodeJS.ProcessEnv;

describe('several kubeconfig files, merged as kubectl merges them', () => {
  it('takes current-context from the first file that sets it, and each name from the first file that defines it', async () => {
    const first = kubeconfig('a/config', {
      clusters: [cluster('prod', 'https://first.example:6443')],
      users: [user('admin', { token: 'first-token' })],
    });
    const second = kubeconfig('b/config', {
      'current-context': 'ops',
      clusters: [cluster('prod', 'https://second.example:6443')],
      users: [user('admin', { token: 'second-token' })],
      contexts: [context('ops', 'prod', 'admin')],
    });
    const third = kubeconfig('c/config', { 'current-context': 'other', contexts: [context('other', 'prod', 'admin')] });
    const connection = await fromKubeconfigFiles([first, second, third], noEnv);
    expect(connection.server).toBe('https://first.example:6443');
    expect(await connection.headers()).toEqual({ Authorization: 'Bearer first-token' });
  });

  it('reads relative paths from the directory of the file that wrote them', async () => {
    writeFileSync(join(dir, 'ca.pem'), 'not the one');
    const users = kubeconfig('users/config', { users: [user('admin', { tokenFile: 'token' })] });
    writeFileSync(join(dir, 'users/token'), 'token-beside-the-users-file\n');
    const clusters = kubeconfig('clusters/config', {
      'current-context': 'ops',
      clusters: [cluster('prod', 'https://prod.example:6443', { 'certificate-authority': 'ca.pem' })],
      contexts: [context('ops', 'prod', 'admin')],
    });
    writeFileSync(join(dir, 'clusters/ca.pem'), 'the CA beside the clusters file');
    const connection = await fromKubeconfigFiles([users, clusters], noEnv);
    expect(String(connection.tls.ca)).toBe('the CA beside the clusters file');
    expect(await connection.headers()).toEqual({ Authorization: 'Bearer token-beside-the-users-file' });
  });

  it('skips files that do not exist, and names the list when none does', async () => {
    const only = kubeconfig('config', { 'current-context': 'c', clusters: [cluster('k', 'https://k.example')], users: [user('u', {})], contexts: [context('c', 'k', 'u')] });
    expect((await fromKubeconfigFiles([join(dir, 'missing'), only], noEnv)).server).toBe('https://k.example');
    await expect(fromKubeconfigFiles([join(dir, 'missing')], noEnv)).rejects.toThrow(/none of .*missing exists/);
  });

  it('reads KUBECONFIG as a list separated by the path delimiter, each file once, else ~/.kube/config', () => {
    expect(kubeconfigPaths({ KUBECONFIG: '/a:/b::/a' }, '/home/me')).toEqual(['/a', '/b']);
    expect(kubeconfigPaths({}, '/home/me')).toEqual(['/home/me/.kube/config']);
  });

  it('loads the merged KUBECONFIG list through loadConnection', async () => {
    const a = kubeconfig('a', { clusters: [cluster('k', 'https://from-a.example')] });
    const b = kubeconfig('b', { 'current-context': 'c', clusters: [cluster('k', 'https://from-b.example')], users: [user('u', {})], contexts: [context('c', 'k', 'u')] });
    expect((await loadConnection({ KUBECONFIG: `${a}:${b}` })).server).toBe('https://from-a.example');
  });

  it('keeps merging pure: maps by name, first wins', () => {
    const merged = mergeKubeconfigs([
      { path: '/x/one', config: { users: [user('u', { token: '1' })] } },
      { path: '/y/two', config: { 'current-context': 'c', users: [user('u', { token: '2' }), user('v', { token: '3' })] } },
    ]);
    expect(merged.currentContext).toBe('c');
    expect([...merged.users].map(([name, { value, base }]) => [name, value.token, base])).toEqual([['u', '1', '/x'], ['v', '3', '/y']]);
  });
});

describe('the proxy, as kubectl chooses it', () => {
  const config = (server: string, proxyUrl?: string) =>
    kubeconfig('config', {
      'current-context': 'c',
      clusters: [cluster('k', server, proxyUrl ? { 'proxy-url': proxyUrl } : {})],
      users: [user('u', {})],
      contexts: [context('c', 'k', 'u')],
    });

  it("uses the cluster's proxy-url over HTTPS_PROXY, whatever NO_PROXY says", async () => {
    const connection = await fromKubeconfigFiles([config('https://10.1.2.3:6443', 'http://cluster-proxy:3128')], { HTTPS_PROXY: 'http://env-proxy:8080', NO_PROXY: '*' });
    expect(connection.proxy).toBe('http://cluster-proxy:3128/');
  });

  it('uses HTTPS_PROXY (or https_proxy) for an https server unless NO_PROXY names it', async () => {
    const path = config('https://api.prod.example:6443');
    expect((await fromKubeconfigFiles([path], { HTTPS_PROXY: 'http://env-proxy:8080' })).proxy).toBe('http://env-proxy:8080/');
    expect((await fromKubeconfigFiles([path], { https_proxy: 'http://lower:8080' })).proxy).toBe('http://lower:8080/');
    expect((await fromKubeconfigFiles([path], { HTTPS_PROXY: 'http://env-proxy:8080', no_proxy: '.prod.example' })).proxy).toBeUndefined();
    expect((await fromKubeconfigFiles([path], { HTTP_PROXY: 'http://only-for-http:8080' })).proxy).toBeUndefined();
  });

  it('prefers the upper-case variables, as Go does, and reads a proxy without a scheme as http://', () => {
    expect(proxyFor('https://api.example', undefined, { HTTPS_PROXY: 'upper:3128', https_proxy: 'http://lower:3128' })).toBe('http://upper:3128/');
    expect(proxyFor('https://api.example', undefined, { HTTPS_PROXY: 'http://p:1', NO_PROXY: 'other.example', no_proxy: 'api.example' })).toBe('http://p:1/');
    expect(proxyFor('http://api.example', undefined, { HTTP_PROXY: 'http://plain:1', HTTPS_PROXY: 'http://tls:1' })).toBe('http://plain:1/');
  });

  it('refuses a SOCKS proxy, which it cannot tunnel through, instead of ignoring it', () => {
    expect(() => proxyFor('https://api.example', 'socks5://proxy:1080', {})).toThrow(/only http/);
  });

  it('matches NO_PROXY as Go does: hosts with their subdomains, .suffixes, *.suffixes, IPs, CIDRs, ports and *', () => {
    const cases: [noProxy: string, host: string, port: string, proxied: boolean][] = [
      ['example.com', 'example.com', '443', false],
      ['example.com', 'api.example.com', '443', false],
      ['example.com', 'notexample.com', '443', true],
      ['.example.com', 'example.com', '443', true],
      ['.example.com', 'api.example.com', '443', false],
      ['*.example.com', 'api.example.com', '443', false],
      ['*.example.com', 'example.com', '443', true],
      ['example.com:6443', 'example.com', '6443', false],
      ['example.com:6443', 'example.com', '443', true],
      ['10.0.0.0/8', '10.96.0.1', '443', false],
      ['10.0.0.0/8', '192.168.0.1', '443', true],
      ['10.96.0.1', '10.96.0.1', '443', false],
      ['10.96.0.1:443', '10.96.0.1', '6443', true],
      ['fd00::/8', 'fd00::1', '443', false],
      ['[fd00::1]:443', 'fd00::1', '443', false],
      [' other.example , EXAMPLE.com ', 'Api.Example.com', '443', false],
      ['*', 'anything.example', '443', false],
      ['', 'anything.example', '443', true],
      // Never through a proxy, whatever NO_PROXY says: loopback and localhost (Go's httpproxy).
      ['', 'localhost', '443', false],
      ['', '127.0.0.1', '443', false],
      ['', '::1', '443', false],
    ];
    for (const [noProxy, host, port, proxied] of cases) expect({ noProxy, host, port, proxied: proxiedPast(noProxy, host, port) }).toEqual({ noProxy, host, port, proxied });
  });
});

describe('credentials read again when they change', () => {
  const base = (userFields: Record<string, unknown>, clusterFields: Record<string, unknown> = {}) =>
    kubeconfig('config', {
      'current-context': 'c',
      clusters: [cluster('k', 'https://k.example', clusterFields)],
      users: [user('u', userFields)],
      contexts: [context('c', 'k', 'u')],
    });

  it('reads a token file on each request, so a rotated token is used at once', async () => {
    writeFileSync(join(dir, 'token'), 'first\n');
    const connection = await fromKubeconfigFiles([base({ tokenFile: 'token' })], noEnv);
    expect(await connection.headers()).toEqual({ Authorization: 'Bearer first' });
    writeFileSync(join(dir, 'token.new'), 'second\n');
    renameSync(join(dir, 'token.new'), join(dir, 'token'));
    expect(await connection.headers()).toEqual({ Authorization: 'Bearer second' });
  });

  it('picks up a rotated CA file, and hands out the same material while it is unchanged', async () => {
    writeFileSync(join(dir, 'ca.pem'), 'CA one');
    const connection = await fromKubeconfigFiles([base({}, { 'certificate-authority': 'ca.pem' })], noEnv);
    const before = connection.tls;
    expect(String(before.ca)).toBe('CA one');
    expect(connection.tls).toBe(before);
    writeFileSync(join(dir, 'ca.new'), 'CA two, rotated');
    renameSync(join(dir, 'ca.new'), join(dir, 'ca.pem'));
    expect(String(connection.tls.ca)).toBe('CA two, rotated');
    expect(connection.tls).not.toBe(before);
  });

  it('picks up a rotated client certificate and key', async () => {
    writeFileSync(join(dir, 'client.crt'), 'cert one');
    writeFileSync(join(dir, 'client.key'), 'key one');
    const connection = await fromKubeconfigFiles([base({ 'client-certificate': 'client.crt', 'client-key': 'client.key' })], noEnv);
    expect([String(connection.tls.cert), String(connection.tls.key)]).toEqual(['cert one', 'key one']);
    writeFileSync(join(dir, 'client.crt'), 'cert two, longer');
    writeFileSync(join(dir, 'client.key'), 'key two, longer');
    expect([String(connection.tls.cert), String(connection.tls.key)]).toEqual(['cert two, longer', 'key two, longer']);
  });

  /** An exec plugin that answers with a new token (and certificate) on each run, expiring at `expiry`. */
  function plugin(expiry: string): string {
    const script = join(dir, 'plugin.sh');
    writeFileSync(
      script,
      `#!/bin/sh
n=$(cat "${dir}/runs" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "${dir}/runs"
info=$(printf '%s' "$KUBERNETES_EXEC_INFO" | tr -d ' ')
case "$info" in *'"interactive":false'*) ;; *) echo "no KUBERNETES_EXEC_INFO" >&2; exit 3 ;; esac
printf '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"token-%s-%s","clientCertificateData":"cert-%s","clientKeyData":"key-%s","expirationTimestamp":"${expiry}"}}' "$n" "$PLUGIN_GREETING" "$n" "$n"
`,
    );
    chmodSync(script, 0o755);
    return script;
  }
  const execUser = (command: string) => ({ exec: { apiVersion: 'client.authentication.k8s.io/v1', command, env: [{ name: 'PLUGIN_GREETING', value: 'hi' }], interactiveMode: 'Never' } });

  it("runs an exec plugin once while its credential is valid (with the user's env), and again after a 401", async () => {
    const connection = await fromKubeconfigFiles([base(execUser(plugin('2999-01-01T00:00:00Z')))], noEnv);
    expect(await Promise.all([connection.headers(), connection.headers()])).toEqual([{ Authorization: 'Bearer token-1-hi' }, { Authorization: 'Bearer token-1-hi' }]);
    expect(await connection.headers()).toEqual({ Authorization: 'Bearer token-1-hi' });
    expect(String(connection.tls.cert)).toBe('cert-1');
    // A 401 before the expiry: the credential was revoked; the plugin is asked again.
    connection.unauthorized?.();
    expect(await connection.headers()).toEqual({ Authorization: 'Bearer token-2-hi' });
  });

  it("runs the exec plugin again once its credential has expired, and uses the new certificate", async () => {
    // Relative with a slash: taken from the kubeconfig's directory, as client-go does.
    plugin('2000-01-01T00:00:00Z');
    const connection = await fromKubeconfigFiles([base(execUser('./plugin.sh'))], noEnv);
    expect(await connection.headers()).toEqual({ Authorization: 'Bearer token-1-hi' });
    const first = connection.tls;
    expect(String(first.cert)).toBe('cert-1');
    expect(await connection.headers()).toEqual({ Authorization: 'Bearer token-2-hi' });
    expect([String(connection.tls.cert), String(connection.tls.key)]).toEqual(['cert-2', 'key-2']);
    expect(connection.tls).not.toBe(first);
  });
});
