/**
 * The real server (src/server/main.ts) in a child process: it logs one JSON line per request
 * without image data, and on SIGTERM or SIGINT finishes the request in flight and exits 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { dataUrl, drawDigit, mnistSeven, SEVEN } from './images.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Server {
  readonly child: ChildProcess;
  readonly url: string;
  readonly lines: Record<string, unknown>[];
  readonly stdout: () => string;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Requests this test sent, to compare with the request log lines. */
  requests: number;
}

const started: ChildProcess[] = [];
const dataDirs: string[] = [];

async function startServer(): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      RATE_LIMIT: '0',
      WORKERS: '1',
      LOG_LEVEL: 'info',
      // Its own corrections database, not the repository's ./data.
      DATA_DIR: dataDirs[dataDirs.push(mkdtempSync(join(tmpdir(), 'digits-shutdown-'))) - 1],
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let out = '';
  let err = '';
  const lines: Record<string, unknown>[] = [];
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => (err += chunk));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: string) => {
      out += chunk;
      const complete = out.split('\n').slice(lines.length, -1);
      for (const line of complete) {
        const entry = JSON.parse(line) as Record<string, unknown>;
        lines.push(entry);
        const match = /serving on (http:\/\/[^ ]+)/.exec(String(entry.msg));
        if (match) resolve(match[1]);
      }
    });
    void exit.then(({ code }) =>
      reject(new Error(`the server exited (${code}) before listening: ${err}`)),
    );
  });
  const server: Server = { child, url, lines, stdout: () => out, exit, requests: 0 };
  // 503 until the worker has loaded the model.
  for (;;) {
    server.requests++;
    const res = await fetch(`${url}/healthz`);
    if (res.status === 200) break;
    expect(res.status).toBe(503);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return server;
}

afterAll(() => {
  for (const child of started) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('finishes the request in flight on SIGTERM, exits 0, and logged one line per request without image data', async () => {
  const server = await startServer();
  const image = dataUrl(drawDigit(SEVEN).png());
  server.requests++;
  const single = await fetch(`${server.url}/api/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ image }),
  });
  expect(single.status).toBe(200);
  // The page and the model files are logged too (the static plugin logs quieter on its own).
  for (const path of ['/', '/models/mnist-cnn/model.json']) {
    server.requests++;
    await (await fetch(`${server.url}${path}`)).arrayBuffer();
  }

  // A batch that keeps the one worker busy for a while.
  const item = { pixels: mnistSeven(), width: 28, height: 28, ink: 'light' };
  server.requests++;
  const batch = fetch(`${server.url}/api/predict/batch`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ items: new Array(256).fill(item) }),
  });
  // Wait until the server is working on it, then ask it to stop.
  for (;;) {
    server.requests++;
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    if (Number(/^digits_inference_queued_images (\d+)/m.exec(metrics)?.[1]) > 0) break;
    await sleep(5);
  }
  server.child.kill('SIGTERM');

  const res = await batch;
  expect(res.status).toBe(200);
  const { results } = (await res.json()) as { results: { digit: number }[] };
  expect(results).toHaveLength(256);
  expect(await server.exit).toEqual({ code: 0, signal: null });
  await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();

  const messages = server.lines.map((line) => String(line.msg));
  expect(messages).toContain('shutting down: finishing the requests in flight');
  expect(messages).toContain('stopped');
  const requestLines = server.lines.filter((line) => line.msg === 'request');
  expect(requestLines).toHaveLength(server.requests);
  for (const line of requestLines) {
    expect(Object.keys(line)).toEqual(
      expect.arrayContaining(['reqId', 'method', 'path', 'route', 'status', 'ms']),
    );
  }
  expect(requestLines.find((line) => line.path === '/api/predict/batch')).toMatchObject({
    route: '/api/predict/batch',
    status: 200,
  });
  // Never the image or the pixels.
  const text = server.stdout();
  expect(text).not.toContain(image.slice(30, 80));
  expect(text).not.toContain('pixels');
  expect(text).not.toContain('base64');
});

it('exits 0 on SIGINT', async () => {
  const server = await startServer();
  server.child.kill('SIGINT');
  expect(await server.exit).toEqual({ code: 0, signal: null });
});
