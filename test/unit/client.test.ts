// The client's pure parts; its requests, deadlines and connections are tested against the real API
// server in test/integration/client.test.ts.
import { describe, expect, it } from 'vitest';
import { ApiError, lineSplitter } from '../../src/k8s/client.ts';
import { sameTls, tunnelsThroughProxies } from '../../src/k8s/transport.ts';

describe('ApiError', () => {
  it("takes the message and reason from the API server's Status", () => {
    const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'configmaps "x" already exists', reason: 'AlreadyExists', code: 409 });
    const err = new ApiError(409, body);
    expect({ code: err.code, reason: err.reason, message: err.message }).toEqual({ code: 409, reason: 'AlreadyExists', message: 'configmaps "x" already exists' });
  });

  it('falls back to the start of the body, or the code, when the answer is no Status', () => {
    expect(new ApiError(502, '<html>bad gateway</html>').message).toBe('<html>bad gateway</html>');
    expect(new ApiError(503, '').message).toBe('HTTP 503');
    expect(new ApiError(429, '', 7).retryAfterSeconds).toBe(7);
  });
});

describe('sameTls: when connections made with one set of TLS material serve another', () => {
  it('holds for equal bytes, however they are held', () => {
    expect(sameTls({ ca: Buffer.from('CA') }, { ca: 'CA' })).toBe(true);
    expect(sameTls({ ca: Buffer.from('CA'), cert: Buffer.from('c'), key: Buffer.from('k') }, { ca: Buffer.from('CA'), cert: Buffer.from('c'), key: Buffer.from('k') })).toBe(true);
  });

  it('fails for a rotated CA or certificate, or another server name or verification', () => {
    expect(sameTls({ ca: 'CA one' }, { ca: 'CA two' })).toBe(false);
    expect(sameTls({ cert: 'c1', key: 'k' }, { cert: 'c2', key: 'k' })).toBe(false);
    expect(sameTls({ ca: 'CA' }, { ca: 'CA', servername: 'api' })).toBe(false);
    expect(sameTls({}, { rejectUnauthorized: false })).toBe(false);
    expect(sameTls({ ca: 'CA' }, {})).toBe(false);
  });
});

describe('tunnelsThroughProxies', () => {
  it("holds from the Node versions whose agents take `proxyEnv`, so that an older one refuses a proxy instead of passing it by", () => {
    expect(['24.5.0', '24.22.3', '25.1.0', '22.21.0'].map(tunnelsThroughProxies)).toEqual([true, true, true, true]);
    expect(['24.4.1', '22.20.0', '23.11.0', '20.19.0'].map(tunnelsThroughProxies)).toEqual([false, false, false, false]);
  });
});

describe('lineSplitter', () => {
  it('gives each complete line once, across chunks, many to a chunk, without blank ones', () => {
    const lines = lineSplitter();
    expect(lines('{"a":1}\n{"b"')).toEqual(['{"a":1}']);
    expect(lines(':2}')).toEqual([]);
    expect(lines('\n\n  \n{"c":3}\n{"d":4}\n{"e')).toEqual(['{"b":2}', '{"c":3}', '{"d":4}']);
    expect(lines('":5}\n')).toEqual(['{"e":5}']);
    expect(lines('')).toEqual([]);
  });
});
