/**
 * The page's corrections without a browser: the user ID, and adapting in-browser answers
 * with the same core code as the server (src/web/local-adaptation.ts) on the real model.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { preprocess } from '../../src/core/preprocess.ts';
import { loadRecognizer } from '../../src/recognizer/node.ts';
import type { Recognizer } from '../../src/recognizer/recognizer.ts';
import type { Recognition } from '../../src/recognizer/answers.ts';
import {
  nextCorrectionView,
  NO_CORRECTION_VIEW,
  randomUserId,
  serverCorrections,
  userId,
  type CorrectionsBackend,
  type StoredCorrection,
} from '../../src/web/corrections.ts';
import { LocalAdaptation } from '../../src/web/local-adaptation.ts';
import { adaptationModelOf } from '../../src/web/recognizer-features.ts';
import { ANOTHER_ONE, CORRECTED_ONE, drawDigit, grayPixels, type Stroke } from '../api/images.ts';

describe('the user ID', () => {
  it('is made once, 22 characters the API accepts, and kept', () => {
    const kept = new Map<string, string>();
    const storage = {
      getItem: (k: string) => kept.get(k) ?? null,
      setItem: (k: string, v: string) => void kept.set(k, v),
    };
    const id = userId(storage);
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(userId(storage)).toBe(id);
    expect(randomUserId()).not.toBe(randomUserId());
    kept.set('digits-user', 'bad id!');
    expect(userId(storage)).not.toBe('bad id!');
    expect(userId(null)).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});

describe("the server's corrections", () => {
  afterEach(() => void vi.unstubAllGlobals());

  it('are asked for only once this browser has stored one, until forgotten', async () => {
    const calls: string[] = [];
    vi.stubGlobal('fetch', async (url: string, init?: RequestInit) => {
      calls.push(`${init?.method ?? 'GET'} ${url}`);
      const status = init?.method === 'POST' ? 201 : init?.method === 'DELETE' ? 204 : 200;
      const body = status === 200 ? JSON.stringify({ items: [{ label: 1, input: [0] }] }) : null;
      return new Response(body, { status });
    });
    const kept = new Map<string, string>();
    const storage = {
      getItem: (k: string) => kept.get(k) ?? null,
      setItem: (k: string, v: string) => void kept.set(k, v),
      removeItem: (k: string) => void kept.delete(k),
    };
    const backend = serverCorrections('user-1234', storage);
    expect(await backend.list()).toEqual([]);
    expect(calls).toEqual([]);
    await backend.add([0], 1);
    expect(await backend.list()).toEqual([{ label: 1, input: [0] }]);
    await backend.forget();
    expect(await backend.list()).toEqual([]);
    expect(calls).toEqual([
      'POST api/corrections',
      'GET api/corrections?user=user-1234',
      'DELETE api/corrections?user=user-1234',
    ]);
    // Another user ID in the same storage has stored nothing.
    await backend.add([0], 1);
    expect(await serverCorrections('user-5678', storage).list()).toEqual([]);
    // Without storage, the server is always asked.
    expect(await serverCorrections('user-5678', null).list()).toHaveLength(1);
  });
});

describe('LocalAdaptation', () => {
  let recognizer: Recognizer;
  beforeAll(async () => {
    recognizer = await loadRecognizer(undefined, { warmUp: false });
  }, 60_000);

  /** One drawing adapted, as a number of one digit is. */
  const adaptOne = async (adaptation: LocalAdaptation, answer: Recognition) =>
    (await adaptation.adapt(adaptationModelOf(recognizer), [answer]))[0];

  const recognize = (strokes: Stroke[]) => {
    const d = drawDigit(strokes);
    const input = preprocess(
      { width: d.width, height: d.height, data: Float32Array.from(grayPixels(d)) },
      'dark',
    );
    if (!input) throw new Error('no ink');
    return recognizer.recognizeInput(input, 'vote');
  };

  it("reads a drawing like a corrected one by the correction's label, until forgotten", async () => {
    const items: StoredCorrection[] = [];
    let lists = 0;
    const backend: CorrectionsBackend = {
      where: 'browser',
      add: async (input, label) => void items.push({ input: [...input], label }),
      list: async () => (lists++, [...items]),
      forget: async () => void items.splice(0),
    };
    const adaptation = new LocalAdaptation(backend);
    const corrected = recognize(CORRECTED_ONE);
    const likeIt = recognize(ANOTHER_ONE);
    expect(corrected.digit).toBe(7);
    expect(await adaptOne(adaptation, likeIt)).toBe(likeIt); // no corrections yet

    await backend.add(corrected.input, 1);
    adaptation.invalidate();
    const adapted = await adaptOne(adaptation, likeIt);
    expect(adapted.digit).toBe(1);
    expect(adapted.adaptation).toEqual({ corrections: 1, neighbours: 1, modelDigit: 7 });
    // A number's digits, adapted together.
    const two = await adaptation.adapt(adaptationModelOf(recognizer), [likeIt, likeIt]);
    expect(two.map((d) => d.digit)).toEqual([1, 1]);
    expect(lists).toBe(2); // the memory is built once per change

    await backend.forget();
    adaptation.invalidate();
    expect((await adaptOne(adaptation, likeIt)).digit).toBe(7);
  });

  it('reads the corrections ahead when prepared, once, and the first answer uses them', async () => {
    let lists = 0;
    let listed!: () => void;
    const asked = new Promise<void>((ok) => (listed = ok));
    const backend: CorrectionsBackend = {
      where: 'browser',
      add: async () => {},
      list: async () => {
        lists++;
        listed();
        return [];
      },
      forget: async () => {},
    };
    const adaptation = new LocalAdaptation(backend);
    adaptation.prepare(adaptationModelOf(recognizer));
    await asked; // asked before any answer
    expect(lists).toBe(1);
    const answer = recognize(ANOTHER_ONE);
    expect(await adaptOne(adaptation, answer)).toBe(answer);
    expect(lists).toBe(1); // the answer used the memory prepared
  });

  it('answers unadapted when the corrections cannot be read', async () => {
    const failing: CorrectionsBackend = {
      where: 'server',
      add: async () => {},
      list: async () => {
        throw new Error('the server is away');
      },
      forget: async () => {},
    };
    const answer = recognize(ANOTHER_ONE);
    expect(await adaptOne(new LocalAdaptation(failing), answer)).toBe(answer);
  });

  it('does not hold an answer up for a slow server, nor ask a failed one at every answer', async () => {
    const answer = recognize(ANOTHER_ONE);
    const never: CorrectionsBackend = {
      where: 'server',
      add: async () => {},
      list: () => new Promise<StoredCorrection[]>(() => {}),
      forget: async () => {},
    };
    const start = performance.now();
    expect(await adaptOne(new LocalAdaptation(never, { waitMs: 50 }), answer)).toBe(answer);
    expect(performance.now() - start).toBeLessThan(5000);

    let clock = 0;
    let lists = 0;
    let up = false;
    const corrected = recognize(CORRECTED_ONE);
    const flaky: CorrectionsBackend = {
      where: 'server',
      add: async () => {},
      list: async () => {
        lists++;
        if (!up) throw new Error('the server is away');
        return [{ input: corrected.input, label: 1 }];
      },
      forget: async () => {},
    };
    const adaptation = new LocalAdaptation(flaky, { retryMs: 30_000, now: () => clock });
    expect(await adaptOne(adaptation, answer)).toBe(answer);
    up = true;
    clock = 10_000;
    expect(await adaptOne(adaptation, answer)).toBe(answer); // not asked again yet
    expect(lists).toBe(1);
    clock = 40_000;
    expect((await adaptOne(adaptation, answer)).digit).toBe(1);
    expect(lists).toBe(2);
  });
});

describe('the correction controls, as data', () => {
  const where = 'on the server';
  const run = (...events: Parameters<typeof nextCorrectionView>[1][]) =>
    events.reduce((view, event) => nextCorrectionView(view, event, where), NO_CORRECTION_VIEW);
  const answer = (digit: number | null, again = false) =>
    ({ type: 'answer', digit, again }) as const;

  it('says a correction took only when the same drawing, read again, reads as taught', () => {
    const sent = run(answer(7), { type: 'sent' });
    expect(sent.pending).toBe(true);
    const stored = nextCorrectionView(sent, { type: 'stored', label: 1 }, where);
    expect(stored.status).toMatch(/reading the drawing again/);
    expect(nextCorrectionView(stored, answer(1, true), where)).toMatchObject({
      status: 'Learned: drawings like this one are your 1s (kept on the server).',
      kind: 'done',
      taught: null,
    });
    expect(nextCorrectionView(stored, answer(7, true), where).status).toMatch(
      /still reads as 7: the model is too sure/,
    );
  });

  it('says nothing of a correction about another drawing or digit shown meanwhile', () => {
    // The pad is cleared, or another digit picked, before the correction is stored.
    const moved = run(answer(7), { type: 'sent' }, answer(null), { type: 'stored', label: 1 });
    expect(moved).toMatchObject({ taught: null, status: 'Kept on the server.' });
    expect(nextCorrectionView(moved, answer(3, false), where).status).toBe('');
    // Stored in time, but the next answer is of another drawing.
    const other = run(answer(7), { type: 'sent' }, { type: 'stored', label: 1 }, answer(3));
    expect(other).toMatchObject({ taught: null, status: '' });
  });

  it('keeps every control waiting while a request is out, whatever is shown meanwhile', () => {
    const view = run(answer(2), { type: 'sent' }, answer(2, true), answer(5));
    expect(view.pending).toBe(true);
    const failed = nextCorrectionView(view, { type: 'failed', message: 'no' }, where);
    expect(failed).toMatchObject({ pending: false, status: 'no', kind: 'error' });
  });

  it('keeps what the status says when the same drawing is answered again', () => {
    const forgotten = run(answer(4), { type: 'sent' }, { type: 'forgotten' }, answer(4, true));
    expect(forgotten.status).toMatch(/forgotten/);
    expect(nextCorrectionView(forgotten, answer(4), where).status).toBe('');
  });
});
