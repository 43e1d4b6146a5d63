/**
 * A batch's answer serialized a few results at a time (routes/work.ts) is byte for byte what
 * Fastify's serializer makes of the whole answer with the route's schema.
 */
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { serializeBatch } from '../../src/server/routes/work.ts';
import { batchResponseSchema, readBatchResponseSchema } from '../../src/server/schemas.ts';

const recognition = (digit: number) => ({
  digit,
  confidence: 0.9123456789,
  probabilities: Array.from({ length: 10 }, (_, i) => (i === digit ? 0.9123456789 : 0.0097)),
  votes: Array.from({ length: 10 }, (_, i) => (i === digit ? 10 : 0)),
  variants: 10,
  ensemble: 'vote',
  input: Array.from({ length: 784 }, (_, i) => (i % 7) / 7),
  ms: 1.25,
  unsure: digit === 3,
  reason: digit === 3 ? 'ambiguous' : null,
  ...(digit === 3 ? { alternatives: [{ digit: 8, confidence: 0.3 }] } : {}),
  // Not in the schema: both serializers leave it out.
  notDigit: 0.01,
});

const reading = {
  text: '74',
  digits: [
    { ...recognition(7), box: { x: 1, y: 2, width: 30, height: 40 } },
    { ...recognition(4), box: { x: 40, y: 2, width: 30, height: 40 } },
  ],
  marks: [{ kind: 'separator', box: { x: 35, y: 30, width: 3, height: 3 } }],
  unsure: false,
  reason: null,
  ms: 3.5,
};

const error = { error: { code: 'invalid_image', message: 'items[1]: the "PNG" is damaged' } };

async function both(
  schema: typeof batchResponseSchema | typeof readBatchResponseSchema,
  results: unknown[],
) {
  const app = Fastify();
  const response = { response: { 200: schema } };
  app.get('/whole', { schema: response }, async () => ({ results }));
  app.get('/sliced', { schema: response }, async (_request, reply) => {
    const serialize = reply.compileSerializationSchema(schema.properties.results.items) as (
      result: unknown,
    ) => string;
    reply.type('application/json; charset=utf-8');
    return serializeBatch(results, serialize);
  });
  const whole = await app.inject('/whole');
  const sliced = await app.inject('/sliced');
  await app.close();
  return { whole, sliced };
}

describe('serializeBatch', () => {
  it('gives the bytes and content type of the whole answer serialized at once', async () => {
    const results = [
      ...Array.from({ length: 60 }, (_, i) => recognition(i % 10)),
      error,
      recognition(3),
    ];
    const { whole, sliced } = await both(batchResponseSchema, results);
    expect(sliced.headers['content-type']).toBe(whole.headers['content-type']);
    expect(sliced.body).toBe(whole.body);
    expect(JSON.parse(sliced.body).results).toHaveLength(62);
    expect(sliced.body).not.toContain('notDigit');
  });

  it('does the same for readings, and for an empty batch', async () => {
    const read = await both(readBatchResponseSchema, [reading, error, reading]);
    expect(read.sliced.body).toBe(read.whole.body);
    const empty = await both(batchResponseSchema, []);
    expect(empty.sliced.body).toBe(empty.whole.body);
    expect(empty.sliced.body).toBe('{"results":[]}');
  });

  it('lets the event loop turn while serializing a large batch', async () => {
    let turns = 0;
    const ticking = setInterval(() => turns++, 0);
    const slow = (result: unknown) => {
      const until = performance.now() + 1;
      while (performance.now() < until);
      return JSON.stringify(result);
    };
    const json = await serializeBatch(
      Array.from({ length: 30 }, (_, i) => i),
      slow,
    );
    clearInterval(ticking);
    expect(JSON.parse(json)).toEqual({ results: Array.from({ length: 30 }, (_, i) => i) });
    expect(turns).toBeGreaterThanOrEqual(5);
  });
});
