/** The evaluation as readable text tables. */
import { ENSEMBLES } from '../core/vote.ts';
import type { MnistEvaluation } from './mnist.ts';
import type { PendigitsEvaluation } from './pendigits.ts';
import { CLASSES, type ModeStats } from './stats.ts';

export function percent(x: number | null, digits = 2): string {
  return x === null || Number.isNaN(x) ? '-' : `${(x * 100).toFixed(digits)}%`;
}

const count = (n: number) => n.toLocaleString('en-US');

function table(rows: string[][], align: ('l' | 'r')[] = []): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) =>
          (align[c] ?? (c === 0 ? 'l' : 'r')) === 'l'
            ? cell.padEnd(widths[c])
            : cell.padStart(widths[c]),
        )
        .join('  ')
        .trimEnd(),
    )
    .map((line) => `  ${line}`)
    .join('\n');
}

const digitsHeader = ['', ...Array.from({ length: CLASSES }, (_, k) => String(k))];

function perClassRow(name: string, stats: ModeStats): string[] {
  return [name, ...stats.perClass.map((v) => (v === null ? '-' : (v * 100).toFixed(1)))];
}

function errors(stats: ModeStats): string {
  const wrong = stats.count - stats.correct;
  return `${count(wrong)} wrong` + (stats.empty ? `, ${count(stats.empty)} without ink` : '');
}

export function formatMnist(m: MnistEvaluation): string {
  const rows: string[][] = [['', 'accuracy', 'errors']];
  if (m.plain)
    rows.push(['model alone (28x28 as given)', percent(m.plain.accuracy), errors(m.plain)]);
  for (const mode of ENSEMBLES)
    rows.push([`pipeline, ensemble ${mode}`, percent(m[mode].accuracy), errors(m[mode])]);
  const perClass = [digitsHeader];
  if (m.plain) perClass.push(perClassRow('model alone', m.plain));
  perClass.push(perClassRow('pipeline vote', m.vote));
  const parts = [
    `MNIST test set (${count(m.count)} digits, ${m.seconds.toFixed(0)} s)`,
    table(rows),
    '',
    'per class (accuracy %)',
    table(perClass),
  ];
  const confusions: [string, ModeStats | null][] = [
    ['model alone', m.plain],
    ['pipeline vote', m.vote],
  ];
  for (const [name, stats] of confusions) {
    if (!stats) continue;
    parts.push(
      '',
      `confusion, ${name} (rows: true digit, columns: predicted)`,
      formatConfusion(stats.confusion),
    );
  }
  return parts.join('\n');
}

export function formatConfusion(confusion: number[][]): string {
  return table([
    ['', ...digitsHeader.slice(1)],
    ...confusion.map((row, k) => [
      String(k),
      ...row.map((n, j) => (n === 0 && j !== k ? '.' : String(n))),
    ]),
  ]);
}

export function formatPendigits(results: readonly PendigitsEvaluation[], writers: number): string {
  if (results.length === 0) return '';
  const n = results[0].count;
  const rows: string[][] = [['', ...ENSEMBLES, 'no ink']];
  for (const r of results) {
    rows.push([
      `brush ${r.brush} px`,
      ...ENSEMBLES.map((mode) => percent(r[mode].accuracy)),
      String(r.vote.empty),
    ]);
  }
  const perClass = [
    digitsHeader,
    ...results.map((r) => perClassRow(`brush ${r.brush} px`, r.vote)),
  ];
  const worst = results.map((r) => {
    const list = [...r.perWriter.entries()]
      .sort((a, b) => a[1].accuracy - b[1].accuracy)
      .slice(0, 3)
      .map(([w, s]) => `writer ${w ?? '?'} ${percent(s.accuracy, 1)}`);
    return `  brush ${r.brush} px: ${list.join(', ')}`;
  });
  const seconds = results.reduce((s, r) => s + r.seconds, 0);
  return [
    `Pen digits, rendered on a 280x280 pad (${count(n)} digits, ${writers} writers, ${seconds.toFixed(0)} s)`,
    table(rows),
    '',
    'per class, ensemble vote (accuracy %)',
    table(perClass),
    '',
    'weakest writers, ensemble vote',
    ...worst,
    ...results.flatMap((r) => [
      '',
      `confusion, brush ${r.brush} px, ensemble vote (rows: true digit, columns: predicted)`,
      formatConfusion(r.vote.confusion),
    ]),
  ].join('\n');
}
