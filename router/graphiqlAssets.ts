import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';

const gzip = promisify(gzipCallback);

/** One static file of the GraphiQL page, named by its content hash so browsers may keep it forever. */
export interface GraphiQLAsset {
  /** File name under the assets path, e.g. `graphiql.3f2a9c01d4e5b6a7.js`. */
  file: string;
  contentType: string;
  body: Uint8Array<ArrayBuffer>;
  /** Strong validator: the content hash. */
  etag: string;
  /** The body gzipped, made on first demand off the event loop (the main script is 5 MB, 1.3 MB gzipped). */
  gzipped(): Promise<Uint8Array<ArrayBuffer>>;
}

/** Web worker labels Monaco asks `MonacoEnvironment.getWorkerUrl` for, as yoga's GraphiQL names them. */
export type GraphiQLWorkerLabel = 'editorWorkerService' | 'json' | 'graphql';

export interface GraphiQLAssets {
  byFile: ReadonlyMap<string, GraphiQLAsset>;
  script: GraphiQLAsset;
  style: GraphiQLAsset;
  boot: GraphiQLAsset;
  favicon: GraphiQLAsset;
  workers: Record<GraphiQLWorkerLabel, GraphiQLAsset>;
}

/**
 * Runs before the GraphiQL bundle: points Monaco at same-origin worker files (yoga's page turns
 * worker sources into blob: URLs, which a strict CSP would have to allow), drops GraphiQL's saved
 * tabs when the router preloads different ones (a saved tab would keep an old run's demo key), works
 * around a tab-click bug, and renders once the bundle has loaded. Options come from a JSON data block, so the page needs no
 * inline script and the CSP can say `script-src 'self'`.
 */
const BOOT_SCRIPT = `(() => {
  'use strict';
  const config = JSON.parse(document.getElementById('graphiql-config').textContent);
  try {
    const revisionKey = 'supergraph-router:graphiql-revision';
    if (localStorage.getItem(revisionKey) !== config.revision) {
      for (const key of Object.keys(localStorage)) if (key.startsWith('graphiql:')) localStorage.removeItem(key);
      localStorage.setItem(revisionKey, config.revision);
    }
  } catch {
    // Storage disabled: GraphiQL keeps nothing either, so there is nothing stale to drop.
  }
  self.MonacoEnvironment = { globalAPI: false, getWorkerUrl: (_moduleId, label) => config.workers[label] };
  // GraphiQL 5 leaves a stale reorder offset (inline transform) on preloaded tabs when their titles
  // settle; its CSS hides it until the tab gets focus, so pressing a tab makes it jump away from the
  // pointer and the click lands on the tab bar: the first click on a tab did nothing. Clearing the
  // offset before focus keeps the tab where it is drawn; a drag sets its own transforms afterwards.
  document.addEventListener('pointerdown', (event) => {
    const tab = event.target instanceof Element ? event.target.closest('.graphiql-tab') : null;
    if (tab) tab.style.transform = 'none';
  }, true);
  window.addEventListener('DOMContentLoaded', () => {
    YogaGraphiQL.renderYogaGraphiQL(document.getElementById('root'), config.options);
  });
})();
`;

let loaded: Promise<GraphiQLAssets> | undefined;

/**
 * GraphiQL's script, styles, editor workers and icon from `@graphql-yoga/render-graphiql`, which
 * bundles them (fonts and images are inlined as data: URIs in the CSS), so nothing is fetched from a
 * CDN. Loaded on the first GraphiQL request, not at start-up: the bundle is 9 MB of strings.
 */
export function loadGraphiQLAssets(): Promise<GraphiQLAssets> {
  loaded ??= import('@graphql-yoga/render-graphiql/graphiql').then((bundle) => {
    const script = asset('graphiql', 'js', bundle.js);
    const style = asset('graphiql', 'css', bundle.css);
    const boot = asset('boot', 'js', BOOT_SCRIPT);
    const favicon = faviconAsset(bundle.favicon);
    const workers = {
      editorWorkerService: asset('editor.worker', 'js', bundle.editorWorkerService),
      json: asset('json.worker', 'js', bundle.jsonWorker),
      graphql: asset('graphql.worker', 'js', bundle.graphqlWorker),
    };
    const all = [script, style, boot, favicon, ...Object.values(workers)];
    return { byFile: new Map(all.map((a) => [a.file, a])), script, style, boot, favicon, workers };
  });
  return loaded;
}

const CONTENT_TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

function asset(name: string, extension: string, content: string | Uint8Array, contentType = CONTENT_TYPES[extension]): GraphiQLAsset {
  const body = typeof content === 'string' ? new TextEncoder().encode(content) : new Uint8Array(content);
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 16);
  let compressed: Promise<Uint8Array<ArrayBuffer>> | undefined;
  return {
    file: `${name}.${hash}.${extension}`,
    contentType,
    body,
    etag: `"${hash}"`,
    gzipped: () => (compressed ??= gzip(body).then((zipped) => new Uint8Array(zipped))),
  };
}

/** The bundle's favicon is a data: URI; served as a file it is cached once instead of inlined in every page. */
function faviconAsset(dataUri: string): GraphiQLAsset {
  const match = /^data:([^;,]+);base64,(.*)$/s.exec(dataUri);
  if (!match) throw new Error('@graphql-yoga/render-graphiql: unexpected favicon format');
  return asset('favicon', 'ico', Buffer.from(match[2], 'base64'), match[1]);
}
