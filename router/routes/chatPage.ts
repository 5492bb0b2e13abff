import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { OutgoingHttpHeaders } from 'node:http';
import type { ServerRoute } from '../../lib/server/serverRoute.ts';
import { CHAT_PAGE_DIR } from '../chatPageDir.ts';

export interface ChatPageOptions {
  /** Where browsers opening it get the page. @default "/" */
  path?: string;
  /** Prefix of its script and styles. @default "/chat/" */
  assetsPath?: string;
  /** Folder of index.html, its styles and its modules. @default CHAT_PAGE_DIR */
  dir?: URL;
  /** Whether the router serves GraphiQL, which the page links to; without it the link is left out. @default true */
  graphiql?: boolean;
}

/**
 * Only our own origin, nothing inline: the page is one HTML file, a few module scripts and one
 * stylesheet, and talks to `/graphql` (fetch, SSE) and `/ops/state` on the same origin.
 */
export const CHAT_PAGE_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const JS = 'text/javascript; charset=utf-8';
const FILES = {
  'index.html': 'text/html; charset=utf-8', 'chat.css': 'text/css; charset=utf-8', 'chat.js': JS, 'transport.js': JS, 'opsPanel.js': JS,
} as const;
type FileName = keyof typeof FILES;

interface StaticFile {
  body: string;
  contentType: string;
  etag: string;
}

/**
 * The chat page at `/` for browsers (`GET` with `Accept: text/html`), static files read once at
 * start: no build step, nothing from a CDN. Anything else at `/` (curl, a health prober) falls
 * through to the JSON endpoint index. Files are revalidated on every load (`no-cache` with an
 * ETag), so a new release is picked up at once.
 */
export function chatPage(options: ChatPageOptions = {}): ServerRoute {
  const { path: pagePath = '/', assetsPath = '/chat/', dir = CHAT_PAGE_DIR, graphiql = true } = options;
  const files = new Map<string, StaticFile>(
    (Object.keys(FILES) as FileName[]).map((name) => {
      let body = readFileSync(new URL(name, dir), 'utf8');
      if (name === 'index.html' && !graphiql) body = body.replace(/\s*<a [^>]*id="graphiql-link"[^>]*>[^<]*<\/a>/, '');
      return [name, { body, contentType: FILES[name], etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` }];
    }),
  );
  return (exchange, path) => {
    const method = exchange.method;
    const isPage = path === pagePath && (method === 'GET' || method === 'HEAD') && !!exchange.header('accept')?.includes('text/html');
    const asset = path.startsWith(assetsPath) ? path.slice(assetsPath.length) : undefined;
    if (!isPage && asset === undefined) return false;
    const file = files.get(isPage ? 'index.html' : asset!);
    if (!file || asset === 'index.html') {
      exchange.send(404, { 'content-length': 0 });
      return true;
    }
    if (method !== 'GET' && method !== 'HEAD') {
      exchange.send(405, { allow: 'GET, HEAD', 'content-length': 0 });
      return true;
    }
    const headers: OutgoingHttpHeaders = { 'content-type': file.contentType, 'cache-control': 'no-cache', etag: file.etag, vary: 'accept' };
    if (isPage) headers['content-security-policy'] = CHAT_PAGE_CONTENT_SECURITY_POLICY;
    if (exchange.header('if-none-match')?.split(',').some((tag) => tag.trim() === file.etag)) {
      exchange.send(304, headers);
      return true;
    }
    exchange.send(200, headers, file.body);
    return true;
  };
}
