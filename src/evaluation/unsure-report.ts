/** The "unsure" figures as readable text. */
import type { DigitFigures, UnsureReport } from './unsure.ts';

const pct = (x: number | null, digits = 2) => (x === null ? '-' : `${(x * 100).toFixed(digits)}%`);

const SOURCE_NAMES: Record<string, string> = {
  pendigits: 'pen-digit writers',
  unipen: 'UNIPEN writers',
};

const digitLine = (d: DigitFigures) =>
  `${d.count}, accuracy ${pct(d.accuracy)}; flagged ${pct(d.flagged)} ` +
  `(not a digit ${pct(d.flaggedNotDigit)}, ambiguous ${pct(d.flaggedAmbiguous)}); ` +
  `accuracy unflagged ${pct(d.unflaggedAccuracy)}; wrong answers flagged ${pct(d.errorsFlagged, 1)}`;

export function formatUnsure(title: string, r: UnsureReport): string {
  const auroc = (rec: Record<string, number | null>) =>
    Object.entries(rec)
      .map(([name, v]) => `${name} ${v === null ? '-' : v.toFixed(4)}`)
      .join(', ');
  const chars = Object.entries(r.perCharacter).sort((a, b) => a[1].flagged - b[1].flagged);
  const show = (list: typeof chars) =>
    list.map(([c, e]) => `${JSON.stringify(c)} ${pct(e.flagged, 0)} of ${e.count}`).join(', ');
  return [
    `${title} (thresholds: not a digit >= ${r.thresholds.notDigit}, ambiguous below ${r.thresholds.ambiguous})`,
    `  digits: ${digitLine(r.digits)}`,
    ...Object.entries(r.digitsBySource).map(
      ([source, d]) => `    of ${SOURCE_NAMES[source] ?? source}: ${digitLine(d)}`,
    ),
    `  letters and symbols (not digit-like): ${r.notDigits.count}, flagged ${pct(r.notDigits.flagged)} ` +
      `(as not a digit ${pct(r.notDigits.flaggedNotDigit)})`,
    `  digit-like letters and symbols: ${r.digitLike.count}, flagged ${pct(r.digitLike.flagged)}`,
    `  AUROC digits vs not digits: ${auroc(r.aurocNotDigit)}`,
    `  AUROC wrong vs right digits: ${auroc(r.aurocErrors)}`,
    `  least flagged characters: ${show(chars.slice(0, 12))}`,
  ].join('\n');
}
