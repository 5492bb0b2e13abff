import { createProtocolListener } from '../../lib/server/protocolListener.ts';

// A stand-in gateway for measuring what sits in front of one (bench/routerCost.ts): every GraphQL
// POST is answered at once with the same bytes (CANNED_BODY, a clean `{"data":…}` marked as such),
// over HTTP/1.1 or HTTP/2 as the caller speaks, so its own cost is next to nothing and pinned away
// from the process measured.
const body = Buffer.from(process.env.CANNED_BODY ?? '{"data":{"ok":true}}');
const listener = createProtocolListener({
  onExchange(exchange) {
    if (exchange.url.startsWith('/healthz')) return exchange.send(200, { 'content-type': 'application/json' }, '{"status":"ok"}');
    exchange.body.resume();
    exchange.body.once('end', () => exchange.send(200, { 'content-type': 'application/graphql-response+json; charset=utf-8', 'x-graphql-data-only': '1' }, body));
  },
});
const { port } = await listener.listen(0, '127.0.0.1');
process.on('SIGTERM', () => void listener.close(100).finally(() => process.exit(0)));
process.send!({ type: 'ready', port });
