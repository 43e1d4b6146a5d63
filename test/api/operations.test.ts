/**
 * Everything around the predictions: /healthz, /metrics, /docs, CORS, rate limiting, the
 * page and the model files, and answers that do not wait for the inference workers.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.ts';
import { serverTimingMs } from '../../src/web/api-client.ts';
import { expectError, expectHealthy, postJson } from './contract.ts';
import { dataUrl, drawDigit, mnistSeven, SEVEN } from './images.ts';

let app: FastifyInstance;
/** Rate limit 3 a minute, CORS narrowed to two origins, no page built. */
let strict: FastifyInstance;
let webRoot: string;
let emptyWebRoot: string;
let healthBeforeReady: { status: number; code: string };

beforeAll(async () => {
  webRoot = mkdtempSync(join(tmpdir(), 'digits-web-'));
  writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>digits test page</title>');
  mkdirSync(join(webRoot, 'assets'));
  writeFileSync(join(webRoot, 'assets', 'app.js'), 'console.log("page");');
  emptyWebRoot = mkdtempSync(join(tmpdir(), 'digits-noweb-'));

  app = await buildApp({ rateLimit: 0, webRoot });
  // Asked before the workers can possibly have loaded the model.
  const early = await app.inject({ method: 'GET', url: '/healthz' });
  healthBeforeReady = {
    status: early.statusCode,
    code: early.json<{ error: { code: string } }>().error?.code,
  };
  strict = await buildApp({
    workers: 1,
    rateLimit: 3,
    corsOrigin: 'https://draw.example, https://other.example',
    webRoot: emptyWebRoot,
  });
  await app.inference.whenReady();
}, 120_000);

afterAll(async () => {
  await Promise.all([app?.close(), strict?.close()]);
  rmSync(webRoot, { recursive: true, force: true });
  rmSync(emptyWebRoot, { recursive: true, force: true });
});

describe('GET /healthz', () => {
  it('answers 503 not_ready until the model is loaded and warmed up', () => {
    expect(healthBeforeReady).toEqual({ status: 503, code: 'not_ready' });
  });

  it('then 200 with the model name and parameter count', async () => {
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ status: string; model: { name: string; params: number } }>();
    expect(body.status).toBe('ok');
    expect(typeof body.model.name).toBe('string');
    expect(body.model.name.length).toBeGreaterThan(0);
    expect(Number.isInteger(body.model.params) && body.model.params > 1000).toBe(true);
  });

  it('and the page answer while a big batch keeps the workers busy', async () => {
    const item = { pixels: mnistSeven(), width: 28, height: 28, ink: 'light' };
    let batchDone = false;
    const batch = postJson(app, '/api/predict/batch', { items: new Array(256).fill(item) }).then(
      (res) => {
        batchDone = true;
        return res;
      },
    );
    // Let the batch reach the workers first.
    while (app.inference.queuedInputs === 0 && !batchDone)
      await new Promise((r) => setTimeout(r, 1));
    const [health, page] = await Promise.all([
      app.inject({ method: 'GET', url: '/healthz' }),
      app.inject({ method: 'GET', url: '/' }),
    ]);
    expect(batchDone).toBe(false);
    expect(health.statusCode).toBe(200);
    expect(page.statusCode).toBe(200);
    expect((await batch).statusCode).toBe(200);
  });
});

describe('GET /metrics', () => {
  it('counts requests and latencies by route and status, and live tensors', async () => {
    await expectHealthy(app);
    await postJson(app, '/api/predict', { image: 'not an image' });
    await app.inject({ method: 'GET', url: '/nowhere' });
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const text = res.body;
    expect(text).toMatch(
      /^http_requests_total\{method="POST",route="\/api\/predict",status="200"\} [1-9]/m,
    );
    expect(text).toMatch(
      /^http_requests_total\{method="POST",route="\/api\/predict",status="422"\} [1-9]/m,
    );
    expect(text).toMatch(/^http_requests_total\{method="GET",route="[^"]+",status="404"\} [1-9]/m);
    expect(text).toMatch(
      /^http_request_duration_seconds_bucket\{le="0\.05",method="POST",route="\/api\/predict",status="200"\} \d+/m,
    );
    const tensors = Number(/^digits_live_tensors (\d+)$/m.exec(text)?.[1]);
    expect(tensors).toBeGreaterThan(0);
    expect(tensors).toBe(app.inference.liveTensors);
    expect(text).toMatch(/^digits_inference_workers_ready 2$/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    // The raw URL never becomes a label.
    expect(text).not.toContain('/nowhere');
  });
});

describe('GET /docs', () => {
  it('serves the OpenAPI description as JSON and a browsable page', async () => {
    const spec = await app.inject({ method: 'GET', url: '/docs/json' });
    expect(spec.statusCode).toBe(200);
    const doc = spec.json<{
      openapi: string;
      paths: Record<
        string,
        Record<
          string,
          { requestBody?: { content: Record<string, { schema: { properties: object } }> } }
        >
      >;
    }>();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/predict', '/api/predict/batch', '/healthz', '/metrics']),
    );
    const body = doc.paths['/api/predict'].post.requestBody?.content['application/json'].schema;
    expect(Object.keys(body?.properties ?? {})).toEqual(
      expect.arrayContaining(['image', 'pixels', 'width', 'height', 'ink', 'ensemble']),
    );
    const page = await app.inject({ method: 'GET', url: '/docs' });
    expect([200, 302]).toContain(page.statusCode);
  });
});

describe('CORS', () => {
  it('allows every origin by default: preflight', async () => {
    const res = await app.inject({
      method: 'OPTIONS',
      url: '/api/predict',
      headers: {
        origin: 'https://anywhere.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(String(res.headers['access-control-allow-methods'])).toContain('POST');
    expect(String(res.headers['access-control-allow-headers']).toLowerCase()).toContain(
      'content-type',
    );
  });

  it('allows every origin by default: simple requests and errors', async () => {
    const ok = await app.inject({
      method: 'POST',
      url: '/api/predict',
      headers: { origin: 'https://anywhere.example' },
      payload: { image: dataUrl(drawDigit(SEVEN).png()) },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe('*');
    // So that a page on another origin can honour Retry-After, and tell the server's own
    // time (Server-Timing) from the network's.
    expect(String(ok.headers['access-control-expose-headers'])).toMatch(/retry-after/i);
    expect(String(ok.headers['access-control-expose-headers'])).toMatch(/server-timing/i);
    const own = serverTimingMs(String(ok.headers['server-timing']));
    expect(own).toBeGreaterThan(0);
    // The server's own time holds the reading's.
    expect(own).toBeGreaterThanOrEqual(Math.floor(ok.json().ms));
    const bad = await app.inject({
      method: 'POST',
      url: '/api/predict',
      headers: { origin: 'https://anywhere.example' },
      payload: {},
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['access-control-allow-origin']).toBe('*');
  });

  it('CORS_ORIGIN narrows it to the listed origins', async () => {
    const allowed = await strict.inject({
      method: 'OPTIONS',
      url: '/api/predict',
      headers: { origin: 'https://other.example', 'access-control-request-method': 'POST' },
    });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://other.example');
    const refused = await strict.inject({
      method: 'GET',
      url: '/healthz',
      headers: { origin: 'https://evil.example' },
    });
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('rate limiting', () => {
  it('answers 429 rate_limited past RATE_LIMIT requests a minute, on the API only', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await postJson(strict, '/api/predict', {});
      expect(res.statusCode).toBe(400);
      expect(res.headers['x-ratelimit-limit']).toBe('3');
    }
    const limited = await postJson(strict, '/api/predict', {});
    expect(expectError(limited, 429, 'rate_limited')).toMatch(/3 a minute/);
    expect(limited.headers['retry-after']).toBeDefined();
    expectError(await postJson(strict, '/api/predict/batch', { items: [] }), 429, 'rate_limited');
    for (let i = 0; i < 5; i++) {
      expect((await strict.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
    }
  });

  it('is off with rateLimit 0', async () => {
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => postJson(app, '/api/predict', {})),
    );
    expect(answers.every((res) => res.statusCode === 400)).toBe(true);
    expect(answers[0].headers['x-ratelimit-limit']).toBeUndefined();
  });
});

describe('the page and the model files', () => {
  it('serves the built page at /', async () => {
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toContain('digits test page');
    const asset = await app.inject({ method: 'GET', url: '/assets/app.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toMatch(/javascript/);
  });

  it('sends the page, its files and the models cross-origin isolated (COOP, COEP)', async () => {
    for (const url of ['/', '/assets/app.js', '/models/mnist-cnn/model.json']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['cross-origin-opener-policy'], url).toBe('same-origin');
      expect(res.headers['cross-origin-embedder-policy'], url).toBe('require-corp');
    }
  });

  it('answers 503 page_not_built at / when the page is not built, and the API still works', async () => {
    const message = expectError(
      await strict.inject({ method: 'GET', url: '/' }),
      503,
      'page_not_built',
    );
    expect(message).toContain('npm run build');
    expectError(await strict.inject({ method: 'GET', url: '/assets/app.js' }), 404, 'not_found');
  });

  it('serves the model files for the in-browser mode', async () => {
    const json = await app.inject({ method: 'GET', url: '/models/mnist-cnn/model.json' });
    expect(json.statusCode).toBe(200);
    expect(
      json.json<{ modelTopology: object; weightsManifest: object[] }>().weightsManifest.length,
    ).toBe(1);
    const weights = await app.inject({ method: 'GET', url: '/models/mnist-cnn/weights.bin' });
    expect(weights.statusCode).toBe(200);
    expect(weights.rawPayload.length).toBeGreaterThan(1000);
  });

  it('does not serve files outside its folders', async () => {
    for (const url of [
      '/models/mnist-cnn/../../package.json',
      '/models/mnist-cnn/%2e%2e/%2e%2e/package.json',
    ]) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.body).not.toContain('"devDependencies"');
    }
  });
});
