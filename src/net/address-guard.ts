// One guard for every request the operator makes to an address a user wrote — a probe's URL, a Destination's
// address (SECURITY.md): the address it really connects to, after DNS, must not be forbidden
// (src/runner/probes/probe-address.ts), so that a name that resolves to 127.0.0.1, or changes its answer between a
// check and the connection, gets no further. Each caller has its own switch to allow local addresses (tests, `make dev`).
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { forbiddenAddressReason } from '../runner/probes/probe-address.ts';

/** A connection refused by the guard; its message says which address and why. */
export class RefusedAddress extends Error {}

/** The host of a URL as an address or a name, without IPv6 brackets. */
export const hostOf = (url: URL): string => url.hostname.replace(/^\[|\]$/g, '');

/** Why a URL whose host is a literal IP address may not be reached, or null (a name is checked after DNS). */
export function refusedLiteral(url: URL): string | null {
  const host = hostOf(url);
  if (!isIP(host)) return null;
  const reason = forbiddenAddressReason(host);
  return reason ? `${host} is ${reason}` : null;
}

/** DNS, then every address checked: a name with any forbidden address is refused as a whole. */
export function checkedLookup(host: string): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      for (const { address } of addresses) {
        const reason = forbiddenAddressReason(address);
        if (reason) return callback(new RefusedAddress(`${host} resolves to ${address}, ${reason}`), '', 0);
      }
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      const [first] = addresses;
      if (!first) return callback(Object.assign(new Error(`no address for ${host}`), { code: 'ENOTFOUND' }), '', 0);
      callback(null, first.address, first.family);
    });
  };
}
