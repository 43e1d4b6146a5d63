/**
 * Work-based admission, fair scheduling and load shedding (issue 14). The limits and their
 * errors through `inject`; fairness, shedding and cancellation on a real listening server,
 * with clients told apart by their loopback source address. No assertion depends on how fast
 * this machine is: each compares the order in which things happened.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectError, expectRecognition, readyApp } from './contract.ts';
import { dataUrl, drawDigit, mnistSeven, pngClaiming, SEVEN } from './images.ts';

const small = { pixels: mnistSeven(), width: 28, height: 28, ink: 'light' };
const seven = dataUrl(drawDigit(SEVEN).png());
const megapixel = dataUrl(drawDigit(SEVEN, { size: 1024 }).png());
const fullSize = dataUrl(drawDigit(SEVEN, { size: 2048 }).png());

describe('limits and errors (inject)', () => {
  let app: FastifyInstance;

  beforeAll(async () => {
    app = await readyApp({
      rateLimit: 0,
      workers: 1,
      maxBatchPixels: 2_000_000,
      workRate: { images: 6, pixels: 0 },
      // Any admitted work puts a client over its share; one request at a time over all.
      queueLimits: { clientSeconds: 1e-6, totalRequests: 1 },
      trustProxy: '127.0.0.1',
    });
  }, 120_000);

  afterAll(async () => {
    await app?.close();
  });

  const post = (url: string, payload: unknown, client: string, headers = {}) =>
    app.inject({
      method: 'POST',
      url,
      payload: payload as object,
      remoteAddress: client,
      headers,
    });

  it('refuses a batch over its pixel limit with 413, counting every image from its header', async () => {
    const res = await post(
      '/api/predict/batch',
      { items: [{ image: megapixel }, { image: megapixel }, small] },
      '127.0.1.1',
    );
    const message = expectError(res, 413, 'payload_too_large');
    expect(message).toMatch(/2\.1 megapixels.*2\.0 megapixels/);
    const one = await post('/api/predict/batch', { items: [{ image: megapixel }] }, '127.0.1.2');
    expect(one.statusCode).toBe(200);
  });

  it('refuses an image over 2048x2048 from its header with 422, alone or as one batch item', async () => {
    const huge = dataUrl(pngClaiming(4096, 16));
    expect(
      expectError(await post('/api/predict', { image: huge }, '127.0.1.3'), 422, 'invalid_image'),
    ).toMatch(/4096x16/);
    const res = await post('/api/predict/batch', { items: [{ image: huge }, small] }, '127.0.1.4');
    expect(res.statusCode).toBe(200);
    const [first, second] = res.json<{ results: unknown[] }>().results;
    expect(first).toMatchObject({ error: { code: 'invalid_image' } });
    expect((first as { error: { message: string } }).error.message).toMatch(
      /^items\[0\]: .*4096x16/,
    );
    expectRecognition(second, 'vote');
  });

  it('limits the work of a client a minute: 429 with Retry-After, other clients unaffected', async () => {
    const client = '127.0.1.5';
    const batch = await post('/api/predict/batch', { items: new Array(6).fill(small) }, client);
    expect(batch.statusCode).toBe(200);
    const refused = await post('/api/predict', small, client);
    expect(expectError(refused, 429, 'rate_limited')).toMatch(/at most 6 images a minute/);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await post('/api/predict', small, '127.0.1.6')).statusCode).toBe(200);
    // Reading a number is work of the same client, through the same queue and budget.
    expectError(await post('/api/read', small, client), 429, 'rate_limited');
    expectError(await post('/api/read/batch', { items: [small] }, client), 429, 'rate_limited');
    const read = await post('/api/read', small, '127.0.1.6');
    expect(read.statusCode, read.body).toBe(200);
    expect(read.json<{ text: string }>().text).toBe('7');
  });

  it('names the client by X-Forwarded-For only behind a trusted proxy', async () => {
    const viaProxy = (forwarded: string) =>
      post('/api/predict/batch', { items: new Array(6).fill(small) }, '127.0.0.1', {
        'x-forwarded-for': forwarded,
      });
    expect((await viaProxy('203.0.113.7')).statusCode).toBe(200);
    // Another client behind the same proxy has its own budget; the first has used its own.
    expect((await viaProxy('203.0.113.8')).statusCode).toBe(200);
    expectError(await viaProxy('203.0.113.7'), 429, 'rate_limited');
    // From an address that is not a trusted proxy, the header is ignored.
    const direct = (forwarded: string) =>
      post('/api/predict', small, '127.0.1.7', { 'x-forwarded-for': forwarded });
    expect(
      (await post('/api/predict/batch', { items: new Array(6).fill(small) }, '127.0.1.7'))
        .statusCode,
    ).toBe(200);
    expectError(await direct('203.0.113.9'), 429, 'rate_limited');
  });

  it('answers a client over its share 429 and others 503 overloaded while the queue is full, both with Retry-After', async () => {
    const heavy = post(
      '/api/predict/batch',
      { items: [{ image: megapixel }, small, small] },
      '127.0.1.8',
    );
    // Wait until the batch is admitted (inject runs it on this event loop).
    for (let i = 0; i < 10_000 && app.inference.depth.requests === 0; i++)
      await new Promise((resolve) => setImmediate(resolve));
    expect(app.inference.depth.requests).toBe(1);
    const again = await post('/api/predict', small, '127.0.1.8');
    expect(expectError(again, 429, 'rate_limited')).toMatch(/already has 1 request/);
    expect(Number(again.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const other = await post('/api/predict', small, '127.0.1.9');
    expect(expectError(other, 503, 'overloaded')).toMatch(/overloaded/);
    expect(Number(other.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await heavy).statusCode).toBe(200);
    expect(app.inference.depth.requests).toBe(0);
    expect((await post('/api/predict', small, '127.0.1.9')).statusCode).toBe(200);
  });
});

// Memory is compared after full collections, as in soak.test.ts.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

interface Answer {
  status: number;
  body: string;
  retryAfter?: string;
  connection?: string;
}

describe('a real server with several clients', () => {
  let app: FastifyInstance;
  let port: number;

  beforeAll(async () => {
    app = await readyApp({ rateLimit: 0, queueLimits: { clientSeconds: 0.5 } });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
  }, 120_000);

  afterAll(async () => {
    await app?.close();
  });

  /** A POST from `client` (a loopback source address); `onRequest` gets the request to abort it. */
  function send(
    client: string,
    path: string,
    payload: unknown,
    onRequest?: (req: http.ClientRequest) => void,
  ): Promise<Answer> {
    const body = Buffer.from(JSON.stringify(payload));
    let answered = false;
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          path,
          method: 'POST',
          localAddress: client,
          agent: false,
          headers: { 'content-type': 'application/json', 'content-length': body.length },
        },
        (res) => {
          answered = true;
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: text,
              retryAfter: res.headers['retry-after'] as string | undefined,
              connection: res.headers.connection,
            }),
          );
        },
      );
      // A refused upload's connection closes while the body is still being sent: the answer
      // came first and is what counts.
      req.on('error', (err) => {
        if (!answered) reject(err);
      });
      onRequest?.(req);
      req.end(body);
    });
  }

  const turn = () => new Promise((resolve) => setImmediate(resolve));

  async function until(condition: () => boolean): Promise<void> {
    for (let i = 0; i < 1_000_000 && !condition(); i++) await turn();
    expect(condition()).toBe(true);
  }

  it("answers a single digit while another client's large batch is still queued", async () => {
    const batch = send('127.0.0.1', '/api/predict/batch', {
      items: new Array(32).fill({ image: fullSize }),
    });
    let batchDone = false;
    void batch.then(() => (batchDone = true));
    await until(() => app.inference.depth.pieces > 0);
    const single = await send('127.0.0.2', '/api/predict', { image: seven });
    const piecesLeft = app.inference.depth.pieces;
    expect(single.status, single.body).toBe(200);
    expect(JSON.parse(single.body).digit).toBe(7);
    // The batch had most of its pieces still waiting when the digit was answered.
    expect(batchDone).toBe(false);
    expect(piecesLeft).toBeGreaterThan(16);
    const answer = await batch;
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body).results).toHaveLength(32);
  });

  it('refuses a flood at once, answers what it admitted, and leaks nothing', async () => {
    collectGarbage();
    const heapBefore = process.memoryUsage().heapUsed;
    const tensorsBefore = app.inference.liveTensors;
    const order: string[] = [];
    const flood = Array.from({ length: 6 }, (_, i) =>
      send('127.0.0.1', '/api/predict/batch', {
        items: new Array(32).fill({ image: fullSize }),
      }).then((answer) => {
        order.push(`${answer.status}`);
        return { i, ...answer };
      }),
    );
    const answers = await Promise.all(flood);
    const statuses = answers.map((a) => a.status);
    expect(
      statuses.every((s) => s === 200 || s === 429),
      statuses.join(),
    ).toBe(true);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(1);
    // Refusals were answered before the first admitted batch was.
    expect(order.indexOf('429')).toBeLessThan(order.indexOf('200'));
    for (const refused of answers.filter((a) => a.status === 429)) {
      expect(JSON.parse(refused.body).error.code).toBe('rate_limited');
      expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
      // Refused unread: the connection closes rather than take in the rest of the upload.
      expect(refused.connection).toBe('close');
    }

    expect(app.inference.depth).toEqual({
      requests: 0,
      pieces: 0,
      images: 0,
      seconds: 0,
      clients: 0,
    });
    expect(app.inference.liveTensors).toBe(tensorsBefore);
    collectGarbage();
    const grown = (process.memoryUsage().heapUsed - heapBefore) / 1e6;
    console.log(`heap after the flood: ${grown.toFixed(1)} MB more`);
    expect(grown).toBeLessThan(40);

    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^digits_shed_requests_total\{reason="client_share"\} [1-9]/m);
    expect(metrics).toMatch(/^digits_queue_requests 0$/m);
    expect(metrics).toMatch(/^digits_queue_pieces 0$/m);
    expect(metrics).toMatch(/^digits_work_images_total [1-9]\d*$/m);
    expect(metrics).toMatch(/^digits_top_client_images_per_minute\{rank="1"\} [1-9]/m);
    expect(metrics).toMatch(/^digits_clients_active 2$/m);
    // Clients are ranked, never named: no address becomes a label.
    expect(metrics).not.toMatch(/127\.0\.0\./);
  });

  it('drops the queued work of a client that went away', async () => {
    const before = app.inference.recognizedInputs;
    let request!: http.ClientRequest;
    const gone = send(
      '127.0.0.3',
      '/api/predict/batch',
      { items: new Array(48).fill({ image: fullSize }) },
      (req) => {
        request = req;
      },
    ).catch((err: Error) => err);
    await until(() => app.inference.depth.pieces > 0);
    request.destroy();
    await gone;
    await until(() => app.inference.depth.requests === 0);
    // Only the pieces already at a worker were recognized.
    expect(app.inference.recognizedInputs - before).toBeLessThan(48);
    expect(app.inference.depth.pieces).toBe(0);
    const after = await send('127.0.0.3', '/api/predict', { image: seven });
    expect(after.status).toBe(200);
  });
});
