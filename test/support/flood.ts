import { spawn } from 'node:child_process';
import { once } from 'node:events';

/** What a flood sent and how the router answered. */
export interface FloodReport {
  sent: number;
  /** 429 with a RATE_LIMITED error and Retry-After. */
  limited: number;
  served: number;
  other: number;
}

export interface Flood {
  /** Resolves once the first answers came back. */
  started: Promise<void>;
  /** Stops the flood and reports. */
  stop(): Promise<FloodReport>;
}

// Runs in the child: `connections` loops of back-to-back POSTs until told to stop on stdin.
const FLOOD_SCRIPT = `
const { url, apiKey, connections } = JSON.parse(process.argv[1]);
const report = { sent: 0, limited: 0, served: 0, other: 0 };
let running = true;
process.stdin.on('data', () => { running = false; });
async function loop() {
  while (running) {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ' + apiKey },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    const text = await response.text();
    report.sent++;
    if (report.sent === connections) process.stdout.write('started\\n');
    if (response.status === 429 && text.includes('"RATE_LIMITED"') && response.headers.get('retry-after')) report.limited++;
    else if (response.status === 200) report.served++;
    else report.other++;
  }
}
Promise.all(Array.from({ length: connections }, loop)).then(() => {
  process.stdout.write(JSON.stringify(report) + '\\n');
  process.exit(0);
});
`;

/** Floods `url` with one API key's requests from a separate process. */
export function startFlood(options: { url: string; apiKey: string; connections: number }): Flood {
  const child = spawn(process.execPath, ['-e', FLOOD_SCRIPT, JSON.stringify(options)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let output = '';
  const lines: Array<() => void> = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    for (const check of lines) check();
  });
  const started = new Promise<void>((resolve, reject) => {
    lines.push(() => output.includes('started\n') && resolve());
    child.once('exit', () => reject(new Error('the flood process exited before it started')));
  });
  started.catch(() => {});
  return {
    started,
    async stop() {
      const exited = once(child, 'exit');
      child.stdin!.end('stop\n');
      await exited;
      return JSON.parse(output.trim().split('\n').at(-1)!) as FloodReport;
    },
  };
}
