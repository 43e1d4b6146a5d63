/** A request in the pool: its pieces, and its one outcome whatever arrives after it. */
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/server/errors.ts';
import { cut, PIECE_COST, PoolRequest } from '../../src/server/pool/request.ts';
import { costed, labels } from '../support/fake-workers.ts';

const answers = (...ns: number[]) =>
  ns.map((n) => ({ ok: false as const, code: 'empty_image' as const, message: String(n) }));

describe('PoolRequest', () => {
  it('goes from waiting to running to done once every piece is answered, results in order', async () => {
    const request = new PoolRequest('recognize', 3);
    request.admitted(2);
    expect(request.outcome).toBe('waiting');
    request.started();
    expect(request.outcome).toBe('running');
    request.answered(2, answers(2));
    expect(request.outcome).toBe('running');
    request.answered(0, answers(0, 1));
    expect(request.outcome).toBe('done');
    expect(labels(await request.answer)).toEqual([0, 1, 2]);
  });

  it('is done at once with nothing to do', async () => {
    const request = new PoolRequest('read', 0);
    request.admitted(0);
    expect(request.outcome).toBe('done');
    expect(await request.answer).toEqual([]);
  });

  it('is abandoned once, with 499, and ignores what comes after', async () => {
    const request = new PoolRequest('recognize', 2);
    request.admitted(2);
    request.started();
    expect(request.abandon()).toBe(true);
    expect(request.abandon()).toBe(false);
    expect(request.fail(new Error('late'))).toBe(false);
    request.answered(0, answers(0));
    request.answered(1, answers(1));
    expect(request.outcome).toBe('abandoned');
    const error = await request.answer.catch((err: unknown) => err);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ statusCode: 499, code: 'client_closed' });
  });

  it('fails with the error it is given, and a done request cannot fail', async () => {
    const failing = new PoolRequest('recognize', 1);
    failing.admitted(1);
    expect(failing.fail(new Error('worker died'))).toBe(true);
    expect(failing.outcome).toBe('failed');
    await expect(failing.answer).rejects.toThrow('worker died');
    const done = new PoolRequest('recognize', 1);
    done.admitted(1);
    done.answered(0, answers(0));
    expect(done.fail(new Error('too late'))).toBe(false);
    expect(done.abandon()).toBe(false);
    expect(done.outcome).toBe('done');
  });
});

describe('cut', () => {
  it('cuts by forward-pass size and by cost, each piece knowing where its inputs go', () => {
    const request = new PoolRequest('recognize', 40);
    const small = Array.from({ length: 20 }, (_, i) => costed(i, 1_000));
    const large = Array.from({ length: 3 }, (_, i) => costed(20 + i, PIECE_COST - 1));
    const pieces = cut(request, [...small, ...large]);
    expect(pieces.map((p) => [p.work.offset, p.work.inputs.length])).toEqual([
      [0, 16],
      [16, 4],
      [20, 1],
      [21, 1],
      [22, 1],
    ]);
    expect(pieces[0].cost).toBe(16_000);
    expect(pieces.every((p) => p.work.request === request)).toBe(true);
    expect(cut(request, [])).toEqual([]);
  });
});
