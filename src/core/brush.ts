/**
 * The page's brush: 1/45 of the pad's height, between 4 and 8 CSS px (a pen, not a marker).
 * People write at their own size, often well under the pad's height, and a brush sized to
 * the pad fills a small digit's loops: the pen digits of the validation writers written
 * 160 px high on a 400 px pad were read 91.6% right with the first brush (1/17.5 of the
 * height, 23 px) and 99.4% with this one (8 px); 100 px high, 49.2% and 99.2%; across the
 * whole pad, 99.4% and 99.3% (`npm run eval:brush`, docs/benchmarks.md "Web page").
 */
export function brushWidth(padCssHeight: number): number {
  return Math.min(8, Math.max(4, padCssHeight / 45));
}
