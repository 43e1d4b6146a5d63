/** How the page writes figures: one rule for every view. */

export function percent(p: number): string {
  if (p >= 0.9995) return '100%';
  if (p >= 0.995) return `${(p * 100).toFixed(1)}%`;
  if (p > 0 && p < 0.005) return '<1%';
  return `${Math.round(p * 100)}%`;
}

export function millis(ms: number): string {
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}
