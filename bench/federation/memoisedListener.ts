import type { RequestListener, ServerResponse } from 'node:http';

// The benchmark's subgraphs answer from memory: a gateway in front of them is what gets measured.

interface Memo {
  status: number;
  contentType: string;
  body: Buffer;
}

/** A request listener that runs yoga once per distinct (accept, path, body) and replays its answer after. */
export function memoised(yoga: { fetch(url: string, init: RequestInit): Response | Promise<Response> }): RequestListener {
  const memo = new Map<string, Memo>();
  const write = (res: ServerResponse, m: Memo) => {
    res.writeHead(m.status, { 'content-type': m.contentType, 'content-length': m.body.length });
    res.end(m.body);
  };
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const key = `${req.method} ${req.headers.accept ?? ''} ${req.url}\n${body.toString('latin1')}`;
      const known = memo.get(key);
      if (known) return write(res, known);
      const headers = Object.entries(req.headers).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v] as [string, string]] : []));
      const answer = await yoga.fetch(`http://127.0.0.1${req.url}`, { method: req.method, headers, body: req.method === 'GET' ? undefined : body });
      const fresh = { status: answer.status, contentType: answer.headers.get('content-type') ?? 'application/json', body: Buffer.from(await answer.arrayBuffer()) };
      if (fresh.status === 200 && memo.size < 10_000) memo.set(key, fresh);
      write(res, fresh);
    });
  };
}

