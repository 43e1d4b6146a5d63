/**
 * npm run quantize -- DIR... [--out DIR]
 *
 * Stores a model folder's weights as float16 (src/model/quantize.ts): half the download, read
 * by every loader as before. In place by default (model.json and weights.bin rewritten
 * atomically; metrics.json gains a `quantization` note), or into --out (one model only), so
 * a freshly trained model is quantised again with the same command. Quantising an already
 * quantised model changes nothing.
 */
import { copyFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { METRICS_JSON, readArtifacts, saveArtifacts, writeAtomic } from '../model/model-io.ts';
import { quantizeFloat16 } from '../model/quantize.ts';
import { formatJson } from '../evaluation/json.ts';
import { readMetrics, weightsHash } from '../evaluation/metrics.ts';

const USAGE = `usage: npm run quantize -- DIR... [--out DIR]

  DIR        a model folder (model.json, weights.bin), e.g. models/mnist-cnn
  --out DIR  write the quantised model there (with a copy of metrics.json) instead of in place
  -h, --help this text`;

const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;

/**
 * Records in metrics.json how the weights were quantised: its figures (and its weightsSha256)
 * are those of the float32 weights until the model is evaluated again.
 */
async function noteInMetrics(dir: string, note: object): Promise<void> {
  const metrics = await readMetrics(dir);
  if (!metrics) return; // no metrics to annotate
  await writeAtomic(join(dir, METRICS_JSON), formatJson({ ...metrics, quantization: note }));
}

async function quantize(dir: string, out: string): Promise<void> {
  const { artifacts, report } = quantizeFloat16(await readArtifacts(dir));
  if (report.converted === 0) {
    console.log(`${dir}: already float16 (${kb(report.bytesAfter)}), nothing to do`);
    if (out === dir) return;
  }
  await saveArtifacts(out, artifacts);
  if (out !== dir) await copyFile(join(dir, METRICS_JSON), join(out, METRICS_JSON)).catch(() => {});
  if (report.converted > 0) {
    await noteInMetrics(out, {
      dtype: 'float16',
      weightsBytesBefore: report.bytesBefore,
      weightsBytesAfter: report.bytesAfter,
      weightsSha256: await weightsHash(out),
      date: new Date().toISOString(),
    });
  }
  console.log(
    `${dir} -> ${out}: ${report.converted} weights to float16, weights.bin ${kb(report.bytesBefore)} -> ${kb(report.bytesAfter)}`,
  );
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || positionals.length === 0) {
    console.log(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  if (values.out && positionals.length > 1) {
    console.error('--out takes one model folder at a time');
    process.exit(2);
  }
  for (const dir of positionals.map((d) => resolve(d))) {
    await quantize(dir, values.out ? resolve(values.out) : dir);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
