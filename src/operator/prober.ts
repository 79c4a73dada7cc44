// One HTTP probe (SPEC §2.3): a GET to the probe's URL, judged by its status code alone. The body is never read
// and never reported, redirects are not followed, and the connection goes only to an address that passed
// src/net/address-guard.ts — checked after DNS, on the very address connected to (SECURITY.md, "Probes"). Loopback
// and link-local targets are refused unless the operator runs with HESTIA_PROBE_ALLOW_LOCAL=true
// (`hestia run --allow-local-probes`), which tests use to probe a server of their own.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ProbeSpec } from '../api/runner.ts';
import { answerOf, timeoutSecondsOf, type ProbeAnswer } from '../runner/probes/probe.ts';
import { checkedLookup, hostOf, RefusedAddress, refusedLiteral } from '../net/address-guard.ts';

export interface ProbeOptions {
  /** Allow loopback and link-local targets (tests, and `make dev` on one machine). */
  allowLocal: boolean;
}

export type Prober = (probe: ProbeSpec) => Promise<ProbeAnswer>;

const ALLOW_HINT = 'probes to loopback, link-local and metadata addresses are off (HESTIA_PROBE_ALLOW_LOCAL=true allows them)';

/** HESTIA_PROBE_ALLOW_LOCAL=true or the flag --allow-local-probes. */
export function probeOptionsFrom(argv: readonly string[], env: NodeJS.ProcessEnv): ProbeOptions {
  return { allowLocal: env.HESTIA_PROBE_ALLOW_LOCAL === 'true' || argv.includes('--allow-local-probes') };
}

export function httpProber(options: ProbeOptions): Prober {
  return (probe) => probeOnce(probe, options);
}

async function probeOnce(probe: ProbeSpec, options: ProbeOptions): Promise<ProbeAnswer> {
  let url: URL;
  try {
    url = new URL(probe.http.url);
  } catch {
    return { ok: false, message: 'not a valid URL' };
  }
  const host = hostOf(url);
  const refused = options.allowLocal ? null : refusedLiteral(url);
  if (refused) return { ok: false, message: `refused: ${refused}; ${ALLOW_HINT}` };
  const timeoutMs = timeoutSecondsOf(probe) * 1000;
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<ProbeAnswer>((resolve) => {
    let settled = false;
    const finish = (answer: ProbeAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(answer);
    };
    const req = send(url, {
      method: 'GET',
      headers: { 'User-Agent': 'hestia-probe', ...(probe.http.headers ?? {}) },
      agent: false,
      ...(options.allowLocal ? {} : { lookup: checkedLookup(host) }),
    }, (res: IncomingMessage) => {
      res.resume();
      finish(answerOf(probe, res.statusCode ?? 0));
    });
    const timer = setTimeout(() => finish({ ok: false, message: `no answer within ${timeoutSecondsOf(probe)}s` }), timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err instanceof RefusedAddress) return finish({ ok: false, message: `refused: ${err.message}; ${ALLOW_HINT}` });
      const code = err.code ? `${err.code}` : err.message;
      finish({ ok: false, message: err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN' ? `cannot resolve ${host} (${code})` : `could not connect (${code})` });
    });
    req.end();
  });
}
