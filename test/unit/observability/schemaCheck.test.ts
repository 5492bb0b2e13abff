import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'graphql';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOperationRecorder } from '../../../router/observability/operationRecorder.ts';
import { loadKnownOperations } from '../../../scripts/schemaCheck/knownOperations.ts';
import { runSchemaCheck } from '../../../scripts/schemaCheck/runSchemaCheck.ts';
import { copySchemaFolder, type SchemaFolderCopy } from '../../support/schemaFolderCopy.ts';

const REPO = resolve(import.meta.dirname, '../../..');
const ARTICLE_PRICE = 'query ArticlePrice { article(id: "1") { id title price } }';
const ARTICLE_TITLES = 'query Titles { articles(first: 3) { edges { node { title } } } }';

/** Records two operations the way the router does and returns the file it wrote. */
async function recordOperations(dir: string): Promise<string> {
  const path = join(dir, 'recorded-operations.json');
  const recorder = createOperationRecorder({ sink: { kind: 'file', path }, now: () => Date.parse('2026-11-20T10:00:00Z') });
  recorder.record(parse(ARTICLE_PRICE), 'ArticlePrice', 'query');
  recorder.record(parse(ARTICLE_TITLES), 'Titles', 'query');
  await recorder.close();
  return path;
}

describe('npm run schema:check', () => {
  let copy: SchemaFolderCopy;
  beforeEach(() => {
    copy = copySchemaFolder();
  });
  afterEach(() => copy.remove());

  it('passes an unchanged tree and lists a safe addition', async () => {
    copy.edit('schema/articles.graphql', (sdl) => sdl.replace('  stock: Int!\n', '  stock: Int!\n  """Grams, for shipping."""\n  weight: Int\n'));
    const lines: string[] = [];
    const report = await runSchemaCheck({ root: copy.root, print: (l) => lines.push(l) });
    expect(report.ok).toBe(true);
    expect(report.changes).toContainEqual(expect.objectContaining({ schema: 'public', kind: 'FIELD_ADDED', severity: 'safe', path: 'Article.weight' }));
    expect(lines.at(-1)).toMatch(/^PASS/);
  });

  it('fails on a breaking change, naming it and the recorded operations it breaks', async () => {
    copy.edit('schema/articles.graphql', (sdl) => sdl.replace('  price: Float!\n', ''));
    const operations = await loadKnownOperations({ recordedFile: await recordOperations(copy.root) });
    const lines: string[] = [];
    const report = await runSchemaCheck({ root: copy.root, operations, print: (l) => lines.push(l) });
    const output = lines.join('\n');

    expect(report.ok).toBe(false);
    expect(report.changes).toContainEqual(expect.objectContaining({ schema: 'public', kind: 'FIELD_REMOVED', severity: 'breaking', path: 'Article.price', accepted: false }));
    expect(report.brokenOperations.map((o) => o.name)).toEqual(['ArticlePrice']);
    expect(output).toMatch(/✖ breaking\s+FIELD_REMOVED\s+Article\.price/);
    expect(output).toMatch(/✖ ArticlePrice \(recorded, last seen 2026-11-20T10:00:00\.000Z\) would break: Cannot query field "price" on type "Article"/);
    expect(output).not.toMatch(/✖ Titles/);
    expect(lines.at(-1)).toMatch(/^FAIL: 0 composition error\(s\), \d+ breaking \(0 accepted\)/);
  });

  it('lets an accepted breaking change through until its acceptance expires', async () => {
    copy.edit('schema/articles.graphql', (sdl) => sdl.replace('  price: Float!\n', ''));
    const accepted = ['identity', 'commerce', 'all', 'public'].map(
      (schema) => `  - schema: ${schema}\n    kind: FIELD_REMOVED\n    path: Article.price\n    reason: Prices moved to the pricing service in app 4.0.\n    expires: 2026-12-31\n`,
    );
    writeFileSync(join(copy.root, 'schema/accepted-changes.yaml'), `accepted:\n${accepted.join('')}`);
    const quiet = () => {};
    expect((await runSchemaCheck({ root: copy.root, today: '2026-12-01', print: quiet })).ok).toBe(true);
    const lines: string[] = [];
    const expired = await runSchemaCheck({ root: copy.root, today: '2027-01-02', print: (l) => lines.push(l) });
    expect(expired.ok).toBe(false);
    expect(lines.join('\n')).toContain('(acceptance expired 2026-12-31)');
  });

  it('prints composition errors with their codes, as rover does', async () => {
    copy.edit('schema/orders.graphql', (sdl) => `${sdl}\nextend type Query { broken: NoSuchType }\n`);
    const lines: string[] = [];
    const report = await runSchemaCheck({ root: copy.root, print: (l) => lines.push(l) });
    expect(report.ok).toBe(false);
    expect(report.compositionErrors[0]).toMatchObject({ schema: 'commerce', code: 'INVALID_GRAPHQL' });
    expect(lines.join('\n')).toMatch(/error\[E029\]: Encountered 1 build error while trying to build the commerce supergraph[\s\S]*Caused by:\n\s+INVALID_GRAPHQL: .*NoSuchType/);
  });

  it('reports a root field two supergraphs define', async () => {
    copy.edit('schema/orders.graphql', (sdl) => `${sdl}\nextend type Query { me: String }\n`);
    const lines: string[] = [];
    const report = await runSchemaCheck({ root: copy.root, print: (l) => lines.push(l) });
    expect(report.ok).toBe(false);
    expect(report.compositionErrors).toContainEqual(expect.objectContaining({ schema: 'public', code: 'ROOT_FIELD_CONFLICT' }));
    expect(lines.join('\n')).toContain('ROOT_FIELD_CONFLICT: root field Query.me is defined by both the identity and the commerce supergraphs');
  });

  it('exits non-zero from the command line on a breaking change', async () => {
    copy.edit('schema/articles.graphql', (sdl) => sdl.replace('  price: Float!\n', ''));
    const recorded = await recordOperations(copy.root);
    const run = promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/schemaCheck.ts', '--root', copy.root, '--operations', recorded], {
      cwd: REPO,
      env: { ...process.env, TRUSTED_DOCUMENTS_MANIFEST: '', REDIS_URL: '' },
    });
    const failure = await run.then(() => undefined, (error: { code: number; stdout: string }) => error);
    expect(failure?.code).toBe(1);
    expect(failure?.stdout).toMatch(/FIELD_REMOVED\s+Article\.price/);
    expect(failure?.stdout).toContain('✖ ArticlePrice (recorded');
  });
});
