/**
 * npm run calibrate -- [--model DIR] [--pendigits DIR] [--unipen DIR] [--dry-run]
 *
 * Picks the "unsure" thresholds of a model on the calibration half of the validation writers
 * (pen digits and UNIPEN, at brush 16 and 8), reports them on the held-out half, and stores
 * them in the model's model.json (userDefinedMetadata.unsure), where the recognizer reads them.
 * Last it prints the ceiling: the best any thresholds do within the issue's limits on all
 * validation writers, picked on those same writers.
 */
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  judgeSamples,
  calibrate,
  unsureReport,
  CALIBRATION_TARGETS,
  ISSUE_TARGETS,
} from '../evaluation/unsure.ts';
import { formatUnsure } from '../evaluation/unsure-report.ts';
import { renderValidation, validationDrawings } from '../evaluation/validation-sets.ts';
import { writeModelMetadata } from '../model/model-io.ts';
import { BRUSHES } from '../node/render-strokes.ts';
import { DEFAULT_MODEL_DIR, loadRecognizer } from '../recognizer/node.ts';
import { TRAIN } from '../training/config.ts';

const USAGE =
  'usage: npm run calibrate -- [--model DIR] [--pendigits DIR] [--unipen DIR] [--dry-run]';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      pendigits: { type: 'string' },
      unipen: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const modelDir = resolve(values.model ?? DEFAULT_MODEL_DIR);
  const recognizer = await loadRecognizer(modelDir);
  const drawings = await validationDrawings(TRAIN, {
    pendigitsDir: values.pendigits,
    unipenDir: values.unipen,
  });
  const judged = judgeSamples(recognizer, await renderValidation(drawings, BRUSHES));
  const calibration = judged.filter((s) => s.calibration);
  const heldOut = judged.filter((s) => !s.calibration);
  const thresholds = calibrate(calibration, CALIBRATION_TARGETS);
  console.log(
    `${recognizer.info.name}: ${recognizer.classes} outputs; targets: at most ` +
      `${CALIBRATION_TARGETS.maxDigitsFlagged * 100}% of digits flagged, ` +
      `${CALIBRATION_TARGETS.notDigitsFlagged * 100}% of letters and symbols flagged, ` +
      `${CALIBRATION_TARGETS.unflaggedAccuracy * 100}% on the rest\n`,
  );
  console.log(formatUnsure('Calibration writers', unsureReport(calibration, thresholds)));
  console.log('');
  console.log(
    formatUnsure(
      'Held-out writers (never used to pick thresholds)',
      unsureReport(heldOut, thresholds),
    ),
  );
  // How far any thresholds could go: picked on the very writers they are scored on.
  console.log('');
  console.log(
    formatUnsure(
      'Ceiling: all validation writers, thresholds picked on them within 2% of digits flagged',
      unsureReport(judged, calibrate(judged, ISSUE_TARGETS)),
    ),
  );
  if (values['dry-run']) return;
  await writeModelMetadata(modelDir, { unsure: thresholds });
  console.log(
    `\nwrote the thresholds into ${relative(process.cwd(), resolve(modelDir, 'model.json'))}`,
  );
}

main().catch((err: unknown) => {
  console.error(`calibrate: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
