/**
 * Request timeouts (a client that trickles its request is cut off with 408) and draining
 * (app.drain(): /healthz 503 at once, answers close their connection, predictions go on).
 */
import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.ts';
import { postJson } from './contract.ts';
import { mnistSeven } from './images.ts';

let app: FastifyInstance;
let port: number;

beforeAll(async () => {
  app = await buildApp({ workers: 1, rateLimit: 0, requestTimeoutMs: 400 });
  await app.listen({ port: 0, host: '127.0.0.1' });
  port = (app.server.address() as { port: number }).port;
  await app.inference.whenReady();
}, 120_000);

afterAll(() => app?.close());

/** Sends `text` on a raw connection; resolves with all it received once the server closes. */
function rawExchange(text: string): Promise<{ reply: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let reply = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (reply += chunk));
    socket.on('close', () => resolve({ reply, ms: performance.now() - started }));
    socket.on('error', reject);
  });
}

describe('request timeout', () => {
  it('answers 408 and closes when a body never arrives in full', async () => {
    const { reply, ms } = await rawExchange(
      'POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"pixels":',
    );
    expect(reply).toMatch(/^HTTP\/1\.1 408 /);
    expect(ms).toBeGreaterThanOrEqual(350);
    expect(ms).toBeLessThan(3_000);
  });

  it('cuts off a client that never finishes its headers too', async () => {
    const { reply, ms } = await rawExchange('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    expect(reply).toMatch(/^HTTP\/1\.1 408 /);
    expect(ms).toBeLessThan(3_000);
  });

  it('leaves requests that arrive in time alone', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(res.status).toBe(200);
  });
});

describe('draining', () => {
  it('/healthz answers 503 at once, every answer closes its connection, predictions still work', async () => {
    expect(app.draining).toBe(false);
    app.drain();
    expect(app.draining).toBe(true);
    const health = await app.inject({ method: 'GET', url: '/healthz' });
    expect(health.statusCode).toBe(503);
    expect(health.json()).toEqual({
      error: { code: 'not_ready', message: 'the server is shutting down' },
    });
    expect(health.headers.connection).toBe('close');
    const res = await postJson(app, '/api/predict', {
      pixels: mnistSeven(),
      width: 28,
      height: 28,
      ink: 'light',
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers.connection).toBe('close');
    expect(res.json<{ digit: number }>().digit).toBe(7);
  });
});
