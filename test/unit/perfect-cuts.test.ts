/** The ceiling of reading digit by digit (evaluation/numbers.ts: readWithPerfectCuts). */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Random } from '../../src/core/random.ts';
import { composeNumber, DigitBank } from '../../src/data/compose-numbers.ts';
import { loadPendigits } from '../../src/data/pendigits.ts';
import { readWithPerfectCuts } from '../../src/evaluation/numbers.ts';
import { loadRecognizer } from '../../src/recognizer/node.ts';
import { writeTinyPenData } from '../support/pen-data.ts';

describe('readWithPerfectCuts', () => {
  it('reads each digit of spaced numbers from its own box, and counts whole numbers right', async () => {
    const { pendigitsDir } = await writeTinyPenData(await mkdtemp(join(tmpdir(), 'cuts-')));
    const bank = new DigitBank(await loadPendigits(pendigitsDir));
    const rng = new Random(3);
    const numbers = Array.from({ length: 6 }, (_, i) =>
      composeNumber(bank, rng, { kind: 'spaced', length: 2 + (i % 3), brush: 10 }),
    );
    const recognizer = await loadRecognizer();
    const tally = await readWithPerfectCuts(recognizer, numbers, 'off');
    expect(tally.numbers).toBe(6);
    expect(tally.digits).toBe(numbers.reduce((n, c) => n + c.text.length, 0));
    // Plain synthetic digits, each alone: the digit model reads nearly all of them.
    expect(tally.digitsRight).toBeGreaterThanOrEqual(tally.digits - 2);
    expect(tally.exact).toBeGreaterThanOrEqual(tally.numbers - 2);
    expect(tally.exact).toBeLessThanOrEqual(tally.numbers);
  });
});
