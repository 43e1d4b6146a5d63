import { PNG } from 'pngjs';
import { writeFileSync } from 'node:fs';
import { Random } from './src/core/random.ts';
import { loadUnipen, toPenBox, writerScales } from './src/data/unipen.ts';
import { renderSet } from './src/training/rendered-sets.ts';
import { scribbles } from './src/training/scribbles.ts';
const rng = new Random(1);
const up = (await loadUnipen('upper')).slice(0, 5000);
const sym = (await loadUnipen('symbols')).slice(0, 5000);
const dig = (await loadUnipen('digits')).slice(0, 5000);
const pick = (xs: typeof up) => { const sc = writerScales(xs); return Array.from({length: 16}, () => xs[rng.int(xs.length)]).map(s => ({label: 0, strokes: toPenBox(s, sc.get(s.writer)!, rng)})); };
const samples = [...pick(up), ...pick(sym), ...pick(dig), ...scribbles(16, rng)];
const set = renderSet(samples, [6, 10, 14, 18], { oneBrushEach: rng });
const cols = 16, rows = 4, png = new PNG({ width: cols * 28, height: rows * 28 });
for (let i = 0; i < set.count; i++) for (let p = 0; p < 784; p++) {
  const x = (i % cols) * 28 + (p % 28), y = Math.floor(i / cols) * 28 + Math.floor(p / 28);
  const v = 255 - set.images[i * 784 + p]; const o = (y * png.width + x) * 4;
  png.data[o] = png.data[o + 1] = png.data[o + 2] = v; png.data[o + 3] = 255;
}
writeFileSync('/tmp/x/viz.png', PNG.sync.write(png));
