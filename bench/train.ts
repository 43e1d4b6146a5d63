/**
 * npm run bench:train -- [--steps N] [--workers N]
 *
 * Training throughput (samples/s) of the shipped net and of the reference net
 * conv32-pool-conv64-pool-dense128 at batch 128, each with real augmented MNIST batches
 * and the data-parallel wasm replicas that `npm run train` uses. One line per net.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { Random } from '../src/core/random.ts';
import { loadMnist } from '../src/data/mnist.ts';
import {
  describe as describeNet,
  REFERENCE_NET,
  type ArchitectureConfig,
} from '../src/model/architecture.ts';
import { makeBatch } from '../src/training/batches.ts';
import { TRAIN } from '../src/training/config.ts';
import { Replicas } from '../src/training/replicas.ts';

const { values } = parseArgs({
  options: { steps: { type: 'string', default: '60' }, workers: { type: 'string' } },
});
const steps = Number(values.steps);
const workers = Number(values.workers ?? Math.min(TRAIN.workers, availableParallelism()));
const BATCH = 128;
// The first steps pay for XNNPACK operator set-up and JIT warm-up; leave them out.
const WARMUP = 10;

const set = await loadMnist('train');

async function measure(arch: ArchitectureConfig): Promise<number> {
  const replicas = await Replicas.start(workers, arch, 1, null);
  try {
    const rng = new Random(1);
    const batch = (i: number) =>
      makeBatch(
        set,
        Array.from({ length: BATCH }, (_, k) => (i * BATCH + k) % set.count),
        rng,
        TRAIN.augment,
      );
    for (let i = 0; i < WARMUP; i++) await replicas.step(batch(i), 1e-3, i);
    const start = performance.now();
    let next = batch(WARMUP);
    for (let i = 0; i < steps; i++) {
      const pending = replicas.step(next, 1e-3, WARMUP + i);
      next = batch(WARMUP + i + 1);
      await pending;
    }
    return (steps * BATCH) / ((performance.now() - start) / 1000);
  } finally {
    await replicas.close();
  }
}

console.log(
  `# ${steps} steps of batch ${BATCH} after ${WARMUP} warm-up steps, ${workers} wasm replica(s), augmentation on`,
);
for (const [label, arch] of [
  ['shipped', TRAIN.architecture],
  ['reference', REFERENCE_NET],
] as const) {
  const speed = await measure(arch);
  console.log(`${label} ${describeNet(arch)} b${BATCH}: ${speed.toFixed(0)} samples/s`);
}
