// Which addresses a probe may not reach (SECURITY.md, "Probes"): the operator's own loopback, the link-local range,
// where clouds serve instance metadata and credentials (169.254.169.254), and the two metadata addresses that lie
// outside it (AWS's fd00:ec2::254, Alibaba Cloud's 100.100.100.200). Checked on the address a request really
// connects to, after DNS, so that a name that resolves to 127.0.0.1 — or changes its answer between a check and
// the connection — gets no further. Private ranges stay allowed: cluster Services live there. Pure.
import { isIPv4, isIPv6 } from 'node:net';

/** Why the operator refuses to probe this IP address, or null when it may. */
export function forbiddenAddressReason(address: string): string | null {
  if (isIPv4(address)) return ipv4Reason(address);
  if (!isIPv6(address)) return null;
  const words = ipv6Words(address);
  if (!words) return null;
  const embedded = embeddedIpv4(words);
  if (embedded) {
    const reason = ipv4Reason(embedded);
    return reason ? `${reason} (as ${address})` : null;
  }
  if (words.every((w) => w === 0)) return 'the unspecified address';
  if (words.slice(0, 7).every((w) => w === 0) && words[7] === 1) return 'a loopback address';
  if ((words[0]! & 0xffc0) === 0xfe80) return 'a link-local address';
  if (words.join(':') === [0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254].join(':')) return 'a cloud metadata address';
  return null;
}

function ipv4Reason(address: string): string | null {
  const [a, b] = address.split('.').map(Number) as [number, number];
  if (a === 127) return 'a loopback address';
  if (a === 169 && b === 254) return 'a link-local address';
  if (a === 0) return 'an address of "this network" (0.0.0.0/8)';
  if (address === '100.100.100.200') return 'a cloud metadata address';
  return null;
}

/** The eight 16-bit words of an IPv6 address (zone index dropped), or null if it cannot be read. */
function ipv6Words(address: string): number[] | null {
  let text = address.split('%')[0]!.toLowerCase();
  // A trailing dotted quad ("::ffff:127.0.0.1") is two words written otherwise.
  const dotted = text.match(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1, 5).map(Number) as [number, number, number, number];
    text = `${text.slice(0, -dotted[0].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((h) => (/^[0-9a-f]{1,4}$/.test(h) ? Number.parseInt(h, 16) : Number.NaN)));
  const front = parse(halves[0]!);
  const back = halves.length === 2 ? parse(halves[1]!) : [];
  const missing = 8 - front.length - back.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return null;
  const words = [...front, ...Array<number>(missing).fill(0), ...back];
  return words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff) ? words : null;
}

/** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) or NAT64 (64:ff9b::/96) address. */
function embeddedIpv4(words: number[]): string | null {
  const zeros = (n: number) => words.slice(0, n).every((w) => w === 0);
  const mapped = zeros(5) && words[5] === 0xffff;
  const compatible = zeros(6) && (words[6]! !== 0 || words[7]! > 1);
  const nat64 = words[0] === 0x64 && words[1] === 0xff9b && words.slice(2, 6).every((w) => w === 0);
  if (!mapped && !compatible && !nat64) return null;
  const [hi, lo] = [words[6]!, words[7]!];
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}
