/**
 * Work-based admission, fair scheduling and load shedding (issue 14). The limits and their
 * errors through `inject`; fairness, shedding and cancellation on a real listening server,
 * with clients told apart by their loopback source address. No assertion depends on how fast
 * this machine is: each compares the order in which things happened.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
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

describe('shedding on event-loop delay (inject)', () => {
  it('answers work 503 overloaded with Retry-After while the event loop lags, health checks meanwhile, and work again once it has caught up', async () => {
    const app = await readyApp({ rateLimit: 0, workers: 1, maxEventLoopDelayMs: 100 });
    const predict = () =>
      app.inject({
        method: 'POST',
        url: '/api/predict',
        payload: small,
        remoteAddress: '127.0.2.1',
      });
    try {
      expect((await predict()).statusCode).toBe(200);
      // Three turns of 600 ms each hold the loop longer than a measurement (500 ms): the last
      // one measured is all delay.
      for (let i = 0; i < 3; i++) {
        const until = performance.now() + 600;
        while (performance.now() < until);
        await new Promise((resolve) => setImmediate(resolve));
      }
      const refused = await predict();
      expect(expectError(refused, 503, 'overloaded')).toMatch(
        /event loop is \d+ ms late \(over 100 ms\)/,
      );
      expect(refused.headers['retry-after']).toBe('1');
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(metrics).toMatch(/^digits_shed_requests_total\{reason="overloaded"\} [1-9]/m);
      // Two measurements of an idle loop later, work is taken again.
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect((await predict()).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  }, 120_000);
});

// Memory is compared after full collections, as in soak.test.ts.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** The real server's body limit: small, so that an upload past it is quick to send. */
const BODY_LIMIT = 10 * 1024 * 1024;

interface Answer {
  status: number;
  body: string;
  retryAfter?: string;
  connection?: string;
  /** Set if sending the body failed (a refused upload cut off by the server). */
  uploadError?: string;
}

describe('a real server with several clients', () => {
  let app: FastifyInstance;
  let port: number;
  /** A second server that allows each client one image a minute: it refuses on demand. */
  let refusing: FastifyInstance;
  let refusingPort: number;

  beforeAll(async () => {
    app = await readyApp({
      rateLimit: 0,
      queueLimits: { clientSeconds: 0.5 },
      bodyLimit: BODY_LIMIT,
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
    refusing = await readyApp({
      rateLimit: 0,
      workRate: { images: 1, pixels: 0 },
      workers: 1,
      bodyLimit: BODY_LIMIT,
    });
    await refusing.listen({ port: 0, host: '127.0.0.1' });
    refusingPort = (refusing.server.address() as AddressInfo).port;
  }, 120_000);

  afterAll(async () => {
    await Promise.all([app?.close(), refusing?.close()]);
  });

  /**
   * A POST from `client` (a loopback source address) to `app` (or `to` another port), answered
   * once the answer has been read and the body sent (or its sending failed: `uploadError`).
   * `onRequest` gets the request to abort it; `agent` (default: none, one connection asking to
   * close) may keep connections.
   */
  function send(
    client: string,
    path: string,
    payload: unknown,
    options: {
      onRequest?: (req: http.ClientRequest) => void;
      agent?: http.Agent | false;
      to?: number;
    } = {},
  ): Promise<Answer> {
    const { onRequest, agent = false, to = port } = options;
    const body = Buffer.from(JSON.stringify(payload));
    let answer: Answer | undefined;
    let uploaded = false;
    let uploadError: string | undefined;
    return new Promise((resolve, reject) => {
      const settle = () => {
        if (answer && (uploaded || uploadError)) resolve({ ...answer, uploadError });
      };
      const req = http.request(
        {
          host: '127.0.0.1',
          port: to,
          path,
          method: 'POST',
          localAddress: client,
          agent,
          headers: { 'content-type': 'application/json', 'content-length': body.length },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            answer = {
              status: res.statusCode ?? 0,
              body: text,
              retryAfter: res.headers['retry-after'] as string | undefined,
              connection: res.headers.connection,
            };
            settle();
          });
        },
      );
      req.on('finish', () => {
        uploaded = true;
        settle();
      });
      req.on('error', (err) => {
        if (!answer) return reject(err);
        uploadError = err.message;
        settle();
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

  /** Spends `client`'s one image a minute at `refusing`: it is refused from now on, unread. */
  async function overBudget(client: string): Promise<void> {
    const first = await send(client, '/api/predict', { image: seven }, { to: refusingPort });
    expect(first.status, first.body).toBe(200);
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
      // The rest of the upload was read and dropped: sending it did not fail.
      expect(refused.uploadError).toBeUndefined();
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

  it('gets a refused large upload its 429 while the upload still arrives, and its sending never fails, whether the connection closes or is kept', async () => {
    const client = '127.0.0.4';
    await overBudget(client);
    // 8 MB of items, under the body limit: refused before being read.
    const large = { items: new Array(120).fill({ image: fullSize }) };
    const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const answers = await Promise.all([
        ...Array.from({ length: 3 }, () =>
          send(client, '/api/predict/batch', large, { to: refusingPort }),
        ),
        ...Array.from({ length: 3 }, () =>
          send(client, '/api/predict/batch', large, { to: refusingPort, agent: keepAlive }),
        ),
      ]);
      for (const answer of answers) {
        expect(answer.status, answer.body).toBe(429);
        expect(JSON.parse(answer.body).error.message).toMatch(/at most 1 images a minute/);
        expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
        expect(answer.uploadError).toBeUndefined();
      }
      // Asked to close, it closed; kept alive, it stayed open for the next request.
      expect(answers.slice(0, 3).map((a) => a.connection)).toEqual(['close', 'close', 'close']);
      expect(answers.slice(3).map((a) => a.connection)).toEqual([
        'keep-alive',
        'keep-alive',
        'keep-alive',
      ]);
    } finally {
      keepAlive.destroy();
    }
  });

  it('lets a client finish a refused upload it still sends after its 429 arrived, then closes the connection cleanly or keeps it', async () => {
    const client = '127.0.0.6';
    await overBudget(client);
    const body = Buffer.from(JSON.stringify({ items: new Array(64).fill({ image: fullSize }) }));
    /**
     * Sends the request and the first half of its body, waits for the whole answer, then
     * sends the rest: what a client does whose upload is slower than the server's answer.
     */
    const refusedMidUpload = (connection: 'close' | 'keep-alive') =>
      new Promise<{ answer: string; events: string[]; socket: net.Socket }>((resolve) => {
        const socket = net.connect({ host: '127.0.0.1', port: refusingPort, localAddress: client });
        const events: string[] = [];
        let answer = '';
        socket.setEncoding('latin1');
        socket.write(
          `POST /api/predict/batch HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: ${connection}\r\n\r\n`,
        );
        socket.write(body.subarray(0, body.length / 2));
        socket.on('data', (text: string) => {
          const first = answer === '';
          answer += text;
          if (!first || !/\r\n\r\n[^]*\}$/.test(answer)) return;
          events.push('answered');
          socket.write(body.subarray(body.length / 2), (err) => {
            events.push(err ? `write failed: ${err.message}` : 'body sent');
            if (connection === 'keep-alive') resolve({ answer, events, socket });
          });
        });
        socket.on('end', () => events.push('server closed'));
        socket.on('error', (err) => events.push(`error: ${err.message}`));
        socket.on('close', () => resolve({ answer, events, socket }));
      });

    const closed = await refusedMidUpload('close');
    expect(closed.answer).toMatch(/^HTTP\/1\.1 429 /);
    expect(closed.answer).toMatch(/\r\nretry-after: \d+\r\n/i);
    expect(closed.answer).toMatch(/\r\nconnection: close\r\n/i);
    // The rest of the body was taken and the connection ended (the server's side right after
    // the answer, the rest once the body was in), with no reset.
    expect([...closed.events].sort()).toEqual(['answered', 'body sent', 'server closed']);

    const kept = await refusedMidUpload('keep-alive');
    expect(kept.answer).toMatch(/^HTTP\/1\.1 429 /);
    expect(kept.events).toEqual(['answered', 'body sent']);
    // The same connection then serves another request.
    const next = await new Promise<string>((resolve) => {
      let text = '';
      kept.socket.on('data', (chunk: string) => {
        text += chunk;
        if (/\r\n\r\n[^]*\}$/.test(text)) resolve(text);
      });
      kept.socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n');
    });
    expect(next).toMatch(/^HTTP\/1\.1 200 /);
    kept.socket.destroy();
  });

  it("refuses a client's second large upload while its first is still being read, not another client's", async () => {
    // 1.4 MB each: over the 1 MiB of a large upload.
    const body = Buffer.from(JSON.stringify({ items: new Array(20).fill({ image: fullSize }) }));
    expect(body.length).toBeGreaterThan(1024 * 1024);
    // The first upload: sent but for its last byte, so the server is still reading it.
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.7' });
    let first = '';
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => (first += text));
    socket.write(
      `POST /api/predict/batch HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
    );
    await new Promise<void>((resolve) => socket.write(body.subarray(0, -1), () => resolve()));
    try {
      const second = await send('127.0.0.7', '/api/predict/batch', JSON.parse(body.toString()));
      expect(second.status).toBe(429);
      expect(JSON.parse(second.body).error.message).toMatch(/still being read/);
      expect(Number(second.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(second.uploadError).toBeUndefined();
      // Another client's large upload is read and answered meanwhile.
      expect(
        (await send('127.0.0.8', '/api/predict/batch', JSON.parse(body.toString()))).status,
      ).toBe(200);
      expect(first).toBe('');
    } finally {
      socket.write(body.subarray(-1));
    }
    // Connection: close: the server ends the connection after its answer.
    await new Promise((resolve) => socket.on('close', resolve));
    expect(first).toMatch(/^HTTP\/1\.1 200 /);
    // Once the first was read, the next one from the same client is read too.
    expect(
      (await send('127.0.0.7', '/api/predict/batch', JSON.parse(body.toString()))).status,
    ).toBe(200);
  });

  it('cuts off a refused chunked upload once it passes the body limit', async () => {
    const client = '127.0.0.5';
    await overBudget(client);
    let answered: number | undefined;
    // Kept alive, the client goes on sending after the answer (asking to close, Node's client
    // would stop at the answer by itself).
    const agent = new http.Agent({ keepAlive: true });
    const outcome = await new Promise<string>((resolve) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: refusingPort,
          path: '/api/predict/batch',
          method: 'POST',
          localAddress: client,
          agent,
          headers: { 'content-type': 'application/json' }, // no length: chunked
        },
        (res) => {
          answered = res.statusCode;
          res.resume();
        },
      );
      req.on('error', (err) => resolve(`cut: ${err.message}`));
      req.on('finish', () => resolve('all sent'));
      // Four times the limit of whitespace, all queued at once: read in full, it would be sent.
      const chunk = Buffer.alloc(256 * 1024, 0x20);
      for (let sent = 0; sent < 4 * BODY_LIMIT; sent += chunk.length) req.write(chunk);
      req.end();
    });
    agent.destroy();
    expect(answered).toBe(429);
    expect(outcome).toMatch(/^cut: /);
  });

  it('drops the queued work of a client that went away', async () => {
    const before = app.inference.recognizedInputs;
    let request!: http.ClientRequest;
    const gone = send(
      '127.0.0.3',
      '/api/predict/batch',
      { items: new Array(48).fill({ image: fullSize }) },
      {
        onRequest: (req) => {
          request = req;
        },
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
