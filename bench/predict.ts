/**
 * npm run bench:predict -- [--n N] [--model DIR]
 *
 * In-process latency of one prediction with the shipped recognizer on one wasm thread:
 * the whole thing (preprocessing, 10 test-time variants, one forward pass, vote) and with
 * the ensemble off, plus the preprocessing alone, on two realistic inputs: a digit drawn on
 * the 280x280 pad (rendered from strokes written here) and an MNIST test digit given as
 * pixels with ink 'light'. Figures, not a timed test: record them in docs/benchmarks.md.
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { preprocess, type GrayBitmap, type InkPolarity } from '../src/core/preprocess.ts';
import { VARIANTS } from '../src/core/variants.ts';
import { loadMnist } from '../src/data/mnist.ts';
import type { PenStroke } from '../src/data/pendigits.ts';
import { renderStrokes } from '../src/node/render-strokes.ts';
import { DEFAULT_MODEL_DIR, loadRecognizer } from '../src/recognizer/node.ts';

/** A "2" as a pen would record it: 500x500 box, y up, a point every 100 ms. */
const TWO: PenStroke[] = [
  [
    { x: 165, y: 370 },
    { x: 195, y: 410 },
    { x: 250, y: 428 },
    { x: 310, y: 415 },
    { x: 338, y: 370 },
    { x: 325, y: 310 },
    { x: 280, y: 250 },
    { x: 220, y: 185 },
    { x: 165, y: 125 },
    { x: 175, y: 118 },
    { x: 255, y: 120 },
    { x: 345, y: 124 },
  ],
];

interface Stats {
  p50: number;
  p99: number;
  mean: number;
  min: number;
}

function measure(n: number, warmUp: number, fn: () => unknown): Stats {
  for (let i = 0; i < warmUp; i++) fn();
  const times = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    fn();
    times[i] = performance.now() - t;
  }
  times.sort();
  const at = (q: number) => times[Math.min(n - 1, Math.floor(q * n))];
  return { p50: at(0.5), p99: at(0.99), mean: times.reduce((a, b) => a + b, 0) / n, min: times[0] };
}

const ms = (x: number) => x.toFixed(3).padStart(8);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { n: { type: 'string', default: '500' }, model: { type: 'string' } },
  });
  const n = Number(values.n);
  if (!Number.isInteger(n) || n < 10)
    throw new Error(`--n must be an integer of at least 10, got "${values.n}"`);
  const recognizer = await loadRecognizer(values.model ?? DEFAULT_MODEL_DIR);
  const test = await loadMnist('test');
  const inputs: { name: string; bitmap: GrayBitmap; ink: InkPolarity }[] = [
    { name: 'pad 280x280, brush 16', bitmap: await renderStrokes(TWO, { brush: 16 }), ink: 'dark' },
    {
      name: 'MNIST 28x28, ink light',
      bitmap: { width: 28, height: 28, data: test.images.subarray(0, 784) },
      ink: 'light',
    },
  ];
  const load = loadavg()[0];
  console.log(
    `${recognizer.info.name} (${recognizer.info.params.toLocaleString('en-US')} parameters), ` +
      `tfjs wasm backend (SIMD, one thread); ${n} runs each after ${Math.min(100, n)} warm-up runs`,
  );
  console.log(
    `${cpus()[0]?.model ?? 'cpu'}, ${availableParallelism()} cores, load average ${load.toFixed(2)}` +
      (load > 0.5 ? ' (the machine is busy: figures are pessimistic)' : ''),
  );
  console.log('');
  const rows: [string, Stats][] = [];
  for (const input of inputs) {
    const first = recognizer.recognize(input.bitmap, { ink: input.ink });
    const prepared = preprocess(input.bitmap, input.ink)!;
    rows.push(
      [
        `${input.name}: preprocess only`,
        measure(n, 100, () => preprocess(input.bitmap, input.ink)),
      ],
      [
        `${input.name}: predict, ${VARIANTS.length} variants (vote)`,
        measure(n, 100, () =>
          recognizer.recognize(input.bitmap, { ink: input.ink, ensemble: 'vote' }),
        ),
      ],
      [
        `${input.name}: predict, ensemble off`,
        measure(n, 100, () =>
          recognizer.recognize(input.bitmap, { ink: input.ink, ensemble: 'off' }),
        ),
      ],
      [
        `${input.name}: variants + forward + vote (no preprocess)`,
        measure(n, 100, () => recognizer.recognizeInput(prepared, 'vote')),
      ],
    );
    console.log(
      `${input.name}: recognised as ${first.digit} (${(first.confidence * 100).toFixed(1)}%)`,
    );
  }
  console.log('');
  const width = Math.max(...rows.map(([name]) => name.length));
  console.log(`${''.padEnd(width)}   p50 ms   p99 ms  mean ms   min ms`);
  for (const [name, s] of rows)
    console.log(`${name.padEnd(width)} ${ms(s.p50)} ${ms(s.p99)} ${ms(s.mean)} ${ms(s.min)}`);
}

main().catch((err: unknown) => {
  console.error(`bench:predict: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
