// The operator's HTTP endpoints: /healthz (the process answers), /readyz (every watch cache is in
// sync; 503 while one is being re-established) and /metrics (Prometheus text). They are served on
// the health port and the metrics port alike (HESTIA_HEALTH_PORT, HESTIA_METRICS_PORT; 0 turns one off).
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface Endpoints {
  ports: number[];
  ready(): boolean;
  registry: Registry;
}

export function serveEndpoints({ ports, ready, registry }: Endpoints): Server[] {
  const handler = (url: string | undefined, respond: (code: number, body: string, type?: string) => void) => {
    if (url === '/healthz') return respond(200, 'ok');
    if (url === '/readyz') return ready() ? respond(200, 'ok') : respond(503, 'watch caches not in sync');
    if (url === '/metrics') {
      return void registry.metrics().then((text) => respond(200, text, registry.contentType), (err: unknown) => respond(500, String(err)));
    }
    respond(404, 'not found');
  };
  return ports
    .filter((port) => port > 0)
    .map((port) =>
      createServer((req, res) => handler(req.url, (code, body, type = 'text/plain') => res.writeHead(code, { 'content-type': type }).end(body))).listen(port, '0.0.0.0'),
    );
}
