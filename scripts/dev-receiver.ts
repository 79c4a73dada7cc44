// `make dev`'s CloudEvents receiver: listens on loopback, reads each request with the CloudEvents SDK as any receiver
// would, answers 202, and prints one line per notice beside the live view of Runners. It writes the port it got to
// the file given as its argument, so that scripts/dev.sh can point the sample Destination at it.
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HTTP } from 'cloudevents';

const [portFile] = process.argv.slice(2);
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    try {
      const received = HTTP.toEvent({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      for (const event of Array.isArray(received) ? received : [received]) {
        const data = event.data as { summary?: string } | undefined;
        console.log(`notification  ${event.type}  ${data?.summary ?? event.subject}`);
      }
      res.writeHead(202).end();
    } catch (err) {
      console.log(`notification  (not a CloudEvent: ${err instanceof Error ? err.message : String(err)})`);
      res.writeHead(400).end();
    }
  });
});
server.listen(0, '127.0.0.1', () => {
  if (portFile) writeFileSync(portFile, String((server.address() as AddressInfo).port));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
