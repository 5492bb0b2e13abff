import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { PRINCIPAL_HEADER, signPrincipal } from '../../lib/principal.ts';

// Target (e) of the federation benchmark, opt-in (BENCH_FED_TARGETS=…,e): the least a router in
// front of our gateway can be in Node — node:http in, the client's bytes forwarded through one undici
// pool with a signed principal, the gateway's bytes piped back, nothing parsed. Not a router; a floor
// for (d): what its CPU per request and added latency would be if the routing itself cost nothing
// (so no deadline, no signal, no error handling beyond a 502: each would raise the floor).
const gateway = new URL(process.env.GATEWAY_URL!);
const pool = new Pool(gateway.origin, { connections: 128, keepAliveTimeout: 30_000 });
let token = { value: '', at: 0 };
const principal = () => {
  const now = Date.now();
  if (now - token.at > 1_000) token = { value: signPrincipal({ scopes: [] }, process.env.INTERNAL_SECRET!, now), at: now };
  return token.value;
};

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    pool
      .request({
        path: gateway.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', [PRINCIPAL_HEADER]: principal() },
        body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks),
      })
      .then(async (answer) => {
        res.writeHead(answer.statusCode, { 'content-type': String(answer.headers['content-type'] ?? 'application/json') });
        for await (const chunk of answer.body) res.write(chunk);
        res.end();
      })
      .catch(() => {
        res.writeHead(502).end();
      });
  });
});
server.keepAliveTimeout = 65_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
process.on('SIGTERM', () => {
  server.closeAllConnections();
  void pool.close().finally(() => process.exit(0));
});
process.send!({ type: 'ready', port: (server.address() as AddressInfo).port });
