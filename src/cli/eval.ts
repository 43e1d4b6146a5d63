/**
 * npm run eval -- [--model DIR] [--pendigits DIR] [--unipen DIR] [--limit N] [--history PATH] [--dry-run]
 *
 * Measures the model on the MNIST test set (the model alone, and the whole pipeline in each
 * ensemble mode), on the pen-digits development data rendered at brush 16 and 8 (the
 * validation writers training never saw, then all writers), on the UNIPEN digits of the
 * validation writers, and how its "unsure" answers do on their digits, letters and symbols;
 * prints
 * the tables and writes the figures into <model>/metrics.json (see src/evaluation/metrics.ts).
 */
import { access } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { VARIANTS } from '../core/variants.ts';
import { loadPendigits, PenDataError, type PenDigit } from '../data/pendigits.ts';
import { defaultUnipenDir, UNIPEN_FILES } from '../data/unipen.ts';
import { judgeSamples, unsureReport } from '../evaluation/unsure.ts';
import { formatUnsure } from '../evaluation/unsure-report.ts';
import {
  renderValidation,
  unipenValidationDigits,
  validationDrawings,
} from '../evaluation/validation-sets.ts';
import {
  buildMetrics,
  findHistory,
  weightsHash,
  writeMetrics,
  type PendigitsGroup,
  type UnsureMetrics,
} from '../evaluation/metrics.ts';
import { evaluateMnist } from '../evaluation/mnist.ts';
import {
  evaluatePendigits,
  type PendigitsEvaluation,
  type PenDrawing,
} from '../evaluation/pendigits.ts';
import { formatMnist, formatPendigits } from '../evaluation/report.ts';
import { describe } from '../model/architecture.ts';
import { BRUSHES } from '../node/render-strokes.ts';
import { DEFAULT_MODEL_DIR, loadRecognizer } from '../recognizer/node.ts';
import { TRAIN } from '../training/config.ts';
import { isValidationWriter } from '../training/config.ts';

const USAGE = `usage: npm run eval -- [options]

  --model DIR       the model folder (default: models/mnist-cnn)
  --pendigits DIR   the pen-digits data folder, holding pendigits-orig.tra
                    (default: ../shared/data/pendigits-train beside the repository;
                    skipped with a note when the default is missing)
  --unipen DIR      the UNIPEN data folder (default: ../shared/data/unipen beside the
                    repository; skipped with a note when the default is missing)
  --limit N         only the first N digits of each set (a quick look; metrics.json
                    is not written)
  --history PATH    the training run's checkpoint.json (or its folder) to record the
                    training history from (default: found by the model's weights)
  --dry-run         print the tables without writing metrics.json
  -h, --help        this text`;

class UsageError extends Error {}

function positiveInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`--${name} must be a positive integer, got "${value}"`);
  return n;
}

function progress(): (stage: string, done: number, total: number) => void {
  if (!process.stderr.isTTY) return () => {};
  return (stage, done, total) => {
    process.stderr.write(`\r\x1b[K${stage}: ${done}/${total}`);
    if (done === total) process.stderr.write('\r\x1b[K');
  };
}

const shown = (path: string) => relative(process.cwd(), path) || '.';

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        model: { type: 'string' },
        pendigits: { type: 'string' },
        unipen: { type: 'string' },
        limit: { type: 'string' },
        history: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const limit = positiveInt('limit', values.limit);
  const modelDir = resolve(values.model ?? DEFAULT_MODEL_DIR);

  // The cheap checks first, so a wrong path fails at once rather than after the MNIST run.
  let digits: PenDigit[] | null = null;
  try {
    digits = await loadPendigits(
      values.pendigits === undefined ? undefined : resolve(values.pendigits),
    );
  } catch (err) {
    if (!(err instanceof PenDataError) || err.kind !== 'missing' || values.pendigits !== undefined)
      throw err;
    console.error(`note: ${err.message}\nnote: skipping the pen-digits evaluation.`);
  }
  const unipenDir = values.unipen === undefined ? undefined : resolve(values.unipen);
  const unipenReadable = await access(join(unipenDir ?? defaultUnipenDir(), UNIPEN_FILES.digits))
    .then(() => true)
    .catch((err: unknown) => {
      if (unipenDir !== undefined) throw new UsageError(`--unipen: ${(err as Error).message}`);
      console.error('note: no UNIPEN data at ../shared/data/unipen; skipping its evaluation.');
      return false;
    });
  const recognizer = await loadRecognizer(modelDir);
  const history = await findHistory(modelDir, values.history);
  const hash = await weightsHash(modelDir);
  const architecture = describe((history.training?.config ?? TRAIN).architecture);

  console.log(
    `model ${shown(modelDir)}: ${recognizer.info.name}, ${recognizer.info.params.toLocaleString('en-US')} parameters, ` +
      `${architecture}; ${VARIANTS.length} test-time variants` +
      (limit ? `; first ${limit} digits of each set` : ''),
  );
  if (history.note) console.log(`note: ${history.note}`);
  console.log('');

  const onProgress = progress();
  const mnist = await evaluateMnist(recognizer, { limit, onProgress });
  console.log(formatMnist(mnist));

  // One brush after the other: each renders thousands of drawings.
  const evaluateBrushes = async (group: PenDrawing[]): Promise<PendigitsEvaluation[]> => {
    const results: PendigitsEvaluation[] = [];
    for (const brush of BRUSHES)
      results.push(await evaluatePendigits(recognizer, group, { brush, onProgress }));
    return results;
  };

  let pen: { validation: PendigitsGroup; all: PendigitsGroup } | null = null;
  if (digits) {
    const used = digits.slice(0, limit ?? digits.length);
    const validationWriters = (history.training?.config ?? TRAIN).penDigits?.validationWriters;
    const evaluateGroup = async (group: PenDigit[], title: string): Promise<PendigitsGroup> => {
      const writerIds = [...new Set(group.map((d) => d.writer))].sort(
        (a, b) => (a ?? 0) - (b ?? 0),
      );
      const results = await evaluateBrushes(group);
      console.log('');
      console.log(title);
      console.log(formatPendigits(results, writerIds.length));
      return { writerIds, results };
    };
    const validation = validationWriters
      ? await evaluateGroup(
          used.filter((d) => isValidationWriter(d.writer, validationWriters)),
          `Validation writers ${validationWriters.join(', ')} (never trained on):`,
        )
      : null;
    const all = await evaluateGroup(
      used,
      validation
        ? 'All writers (the training writers included):'
        : 'All writers (none was trained on):',
    );
    pen = { validation: validation ?? all, all };
  }

  const config = history.training?.config ?? TRAIN;
  let unipen: PendigitsGroup | null = null;
  let unsure: UnsureMetrics | null = null;
  if (unipenReadable) {
    const group = (await unipenValidationDigits(config, unipenDir)).slice(0, limit);
    const writerIds = [...new Set(group.map((d) => d.writer))];
    const results = await evaluateBrushes(group);
    console.log('');
    console.log('UNIPEN digits of the validation writers (never trained on):');
    console.log(formatPendigits(results, writerIds.length));
    unipen = { writerIds, results };
  }
  if (unipenReadable && digits) {
    const drawings = await validationDrawings(config, {
      unipenDir,
      pendigitsDir: values.pendigits,
      limit,
    });
    const judged = judgeSamples(recognizer, await renderValidation(drawings, BRUSHES, onProgress));
    const all = unsureReport(judged, recognizer.thresholds);
    const heldOut = unsureReport(
      judged.filter((s) => !s.calibration),
      recognizer.thresholds,
    );
    console.log('');
    console.log(formatUnsure('Unsure answers, all validation writers, both brushes', all));
    console.log(
      formatUnsure('Unsure answers, the held-out half (not used by npm run calibrate)', heldOut),
    );
    unsure = { all, heldOut };
  }

  console.log('');
  if (limit || values['dry-run']) {
    console.log(`metrics.json not written (${limit ? '--limit' : '--dry-run'})`);
  } else {
    const metrics = buildMetrics({
      name: recognizer.info.name,
      params: recognizer.info.params,
      weightsSha256: hash,
      variants: VARIANTS,
      training: history.training,
      mnist,
      pendigits: pen,
      unipen,
      unsure,
    });
    await writeMetrics(modelDir, metrics);
    console.log(`wrote ${shown(resolve(modelDir, 'metrics.json'))}`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`eval: ${err.message}\n\n${USAGE}`);
      process.exit(2);
    }
    console.error(`eval: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
