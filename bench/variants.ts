/**
 * npm run bench:variants -- [--model DIR] [--limit N]
 *
 * Chooses the test-time variants by measurement: each candidate list is scored on the MNIST
 * test set (through the pipeline) and on the pen-digit validation writers (brush 16 and 8),
 * in every ensemble mode. The shipped list (src/core/variants.ts) must make `vote` at least
 * as accurate as `off` on both.
 */
import { parseArgs } from 'node:util';
import type { AffineParams } from '../src/core/affine.ts';
import { VARIANTS } from '../src/core/variants.ts';
import type { Ensemble } from '../src/core/vote.ts';
import { loadMnist } from '../src/data/mnist.ts';
import { loadPendigits } from '../src/data/pendigits.ts';
import { evaluateInputs, prepareMnist, type PreparedSet } from '../src/evaluation/mnist.ts';
import { preparePendigits } from '../src/evaluation/pendigits.ts';
import { BRUSHES } from '../src/node/render-strokes.ts';
import { DEFAULT_MODEL_DIR, loadRecognizer } from '../src/recognizer/node.ts';
import { TRAIN } from '../src/training/config.ts';
import { isValidationWriter } from '../src/training/config.ts';

const CANDIDATES: Record<string, readonly AffineParams[]> = {
  shipped: VARIANTS,
  'previous: ±8°, scale 0.9/1.1, ±1px, aspect 0.85': [
    {},
    { rotate: -8 },
    { rotate: 8 },
    { scale: 0.9 },
    { scale: 1.1 },
    { dx: -1 },
    { dx: 1 },
    { dy: -1 },
    { dy: 1 },
    { aspect: 0.85 },
  ],
  'rotations ±5/±10, scales': [
    {},
    { rotate: -5 },
    { rotate: 5 },
    { rotate: -10 },
    { rotate: 10 },
    { scale: 0.9 },
    { scale: 1.1 },
    { scale: 0.95, rotate: 4 },
    { scale: 1.05, rotate: -4 },
    { aspect: 0.9 },
  ],
  'small: ±4°, ±5% scale, ±1px': [
    {},
    { rotate: -4 },
    { rotate: 4 },
    { scale: 0.95 },
    { scale: 1.05 },
    { dx: -1 },
    { dx: 1 },
    { dy: -1 },
    { dy: 1 },
    { aspect: 0.92 },
  ],
};

const { values } = parseArgs({ options: { model: { type: 'string' }, limit: { type: 'string' } } });
const limit = values.limit ? Number(values.limit) : undefined;
const recognizer = await loadRecognizer(values.model ?? DEFAULT_MODEL_DIR);
const validationWriters = TRAIN.penDigits?.validationWriters ?? [];
const pen = (await loadPendigits())
  .filter((d) => isValidationWriter(d.writer, validationWriters))
  .slice(0, limit);
const sets: [string, PreparedSet][] = [
  ['mnist', prepareMnist(await loadMnist('test'), limit)],
  ...(await Promise.all(
    BRUSHES.map(async (brush): Promise<[string, PreparedSet]> => [
      `pen${brush}`,
      await preparePendigits(pen, { brush }),
    ]),
  )),
];

const MODES: Ensemble[] = ['vote', 'mean', 'off'];
console.log(
  `# ${sets.map(([name, s]) => `${name}: ${s.labels.length}`).join(', ')} digits; accuracy % vote / mean / off`,
);
for (const [name, variants] of Object.entries(CANDIDATES)) {
  const cells = sets.map(([setName, prepared]) => {
    const r = evaluateInputs(recognizer, prepared, { variants });
    return `${setName} ${MODES.map((m) => (r[m].accuracy * 100).toFixed(2)).join(' / ')}`;
  });
  console.log(`${name.padEnd(40)} ${cells.join(' | ')}`);
}
