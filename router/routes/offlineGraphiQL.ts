import { createHash } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';
import type { GraphiQLOptions } from 'graphql-yoga';
import type { ServerExchange } from '../../lib/server/serverExchange.ts';
import type { ServerRoute } from '../../lib/server/serverRoute.ts';
import { loadGraphiQLAssets, type GraphiQLAsset, type GraphiQLAssets } from '../graphiqlAssets.ts';

export interface OfflineGraphiQLOptions {
  /** Where browsers (GET with `Accept: text/html`) get GraphiQL; GraphiQL sends operations here too. @default "/graphql" */
  graphqlPath?: string;
  /** Prefix of the content-hashed script, styles, workers and icon. @default "/graphiql/" */
  assetsPath?: string;
  /** What GraphiQL opens with: title, headers, tabs. @default { title: 'GraphiQL', method: 'POST' } */
  graphiql?: GraphiQLOptions;
}

/**
 * Only our own origin. GraphiQL needs, beyond it: `data:` fonts and images (inlined in its CSS),
 * and inline styles: Monaco and GraphiQL's React components set `style` attributes and add
 * `<style>` elements at run time, with no nonce hook, so `style-src` carries 'unsafe-inline'.
 * Scripts stay strict: no inline script, no eval, workers from our origin only.
 */
export const GRAPHIQL_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const ONE_YEAR_SECONDS = 365 * 24 * 3600;

/**
 * GraphiQL from the router's own origin, for machines without internet access: yoga's built-in page
 * loads its scripts, styles and editor workers from a public CDN (and is blank without one). The page
 * is small and never cached (it may carry the demo key); the assets it loads are content-hashed,
 * `immutable` and gzipped when the browser accepts it.
 */
export function offlineGraphiQL(options: OfflineGraphiQLOptions = {}): ServerRoute {
  const { graphqlPath = '/graphql', assetsPath = '/graphiql/' } = options;
  // POST for subscriptions too (GraphiQL's SSE default is GET): the operation stays out of URLs and
  // access logs, and it is the request graphql-sse clients send in distinct-connections mode.
  const graphiql: GraphiQLOptions = { title: 'GraphiQL', method: 'POST', ...options.graphiql, endpoint: graphqlPath };
  let page: Promise<{ assets: GraphiQLAssets; html: string }> | undefined;
  const loadPage = () =>
    (page ??= loadGraphiQLAssets().then((assets) => ({ assets, html: renderPage(assets, assetsPath, graphiql) })));
  // A failed load (a broken install) must not stick: the next request tries again.
  const pageOrRetry = () => loadPage().catch((error: unknown) => ((page = undefined), Promise.reject(error)));

  return async (exchange, path) => {
    const isPage = (path === graphqlPath || path === `${graphqlPath}/`) && exchange.method === 'GET' && !!exchange.header('accept')?.includes('text/html');
    const isAsset = path.startsWith(assetsPath);
    if (!isPage && !isAsset) return false;

    const { assets, html } = await pageOrRetry();
    if (isPage) {
      exchange.send(
        200,
        {
          'content-type': 'text/html; charset=utf-8',
          'cache-control': 'no-store',
          'content-security-policy': GRAPHIQL_CONTENT_SECURITY_POLICY,
          'x-content-type-options': 'nosniff',
          'x-frame-options': 'DENY',
          'referrer-policy': 'no-referrer',
        },
        html,
      );
      return true;
    }
    if (exchange.method !== 'GET' && exchange.method !== 'HEAD') {
      exchange.send(405, { allow: 'GET, HEAD', 'content-length': 0 });
      return true;
    }
    const asset = assets.byFile.get(path.slice(assetsPath.length));
    if (!asset) {
      exchange.send(404, { 'content-length': 0 });
      return true;
    }
    await sendAsset(exchange, asset);
    return true;
  };
}

async function sendAsset(exchange: ServerExchange, asset: GraphiQLAsset): Promise<void> {
  const gzip = /\bgzip\b/.test(exchange.header('accept-encoding') ?? '');
  // Each encoding is its own representation, so each gets its own strong validator.
  const etag = gzip ? `${asset.etag.slice(0, -1)}-gzip"` : asset.etag;
  const headers: OutgoingHttpHeaders = {
    'content-type': asset.contentType,
    'cache-control': `public, max-age=${ONE_YEAR_SECONDS}, immutable`,
    etag,
    vary: 'accept-encoding',
    'x-content-type-options': 'nosniff',
  };
  const tags = exchange.header('if-none-match')?.split(',').map((tag) => tag.trim().replace(/^W\//, ''));
  if (tags?.includes(etag) || tags?.includes('*')) return exchange.send(304, headers);
  if (gzip) headers['content-encoding'] = 'gzip';
  const body = gzip ? await asset.gzipped() : asset.body;
  exchange.send(200, headers, body);
}

function renderPage(assets: GraphiQLAssets, assetsPath: string, graphiql: GraphiQLOptions): string {
  const href = (asset: GraphiQLAsset) => `${assetsPath}${asset.file}`;
  const config = {
    options: { ...graphiql, favicon: href(assets.favicon) },
    workers: Object.fromEntries(Object.entries(assets.workers).map(([label, asset]) => [label, href(asset)])),
    // Changes whenever the preloaded tabs or headers change, so the page drops GraphiQL's saved ones.
    revision: createHash('sha256').update(JSON.stringify(graphiql)).digest('hex').slice(0, 16),
  };
  const title = escapeHtml(graphiql.title ?? 'GraphiQL');
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>${title}</title>
    <link rel="icon" href="${href(assets.favicon)}">
    <link rel="stylesheet" href="${href(assets.style)}">
    <script type="application/json" id="graphiql-config">${jsonInScript(config)}</script>
    <script src="${href(assets.boot)}"></script>
    <script src="${href(assets.script)}"></script>
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>GraphiQL needs JavaScript.</noscript>
    <div id="root">Loading ${title}…</div>
  </body>
</html>
`;
}

/** JSON that cannot end its `<script>` element early, whatever strings it holds. */
function jsonInScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
