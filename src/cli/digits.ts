/**
 * The `digits` command (bin/digits.js, `npm run predict -- ...`, `npm run read -- ...`):
 *
 *   digits predict a.png b.jpg [--json] [--ensemble vote|mean|off] [--model DIR] [--ink dark|light]
 *   digits read a.png b.jpg [the same options]
 *
 * See src/cli/predict.ts for the options and exit codes (0 ok, 1 a file failed, 2 usage).
 */
import { run } from './predict.ts';

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`digits: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  },
);
