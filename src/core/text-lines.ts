/**
 * The lines of writing on a page (a photo of a form, a list of amounts), top to bottom: bands
 * of rows with ink, apart from one another by rows with none. A mark that stands alone in
 * its own thin band (the dot of a separator below a line, a closing dash above it) belongs
 * to the nearest line, not to a line of its own.
 */
import type { GrayImage } from './image.ts';

export interface RowBand {
  /** First and last row (or column), inclusive. */
  readonly from: number;
  readonly to: number;
}

export const bandHeight = (b: RowBand): number => b.to - b.from + 1;

/** The longest runs of consecutive rows 0..count-1 that `holds`, in order. */
export function bandsWhere(count: number, holds: (row: number) => boolean): RowBand[] {
  const bands: RowBand[] = [];
  for (let y = 0; y < count; y++) {
    if (!holds(y)) continue;
    let to = y;
    while (to + 1 < count && holds(to + 1)) to++;
    bands.push({ from: y, to });
    y = to;
  }
  return bands;
}

/** A row holds writing when its ink is at least this share of the inkiest row's. */
const ROW_INK = 0.02;
/** Bands thinner than this share of the tallest are marks of a line, not lines. */
const THIN_BAND = 0.35;

/** The bands of `map`'s rows that hold a line of writing each, top to bottom. */
export function textLines(map: GrayImage): RowBand[] {
  const { width, height, data } = map;
  const rows = new Float64Array(height);
  for (let y = 0; y < height; y++) {
    let sum = 0;
    for (let i = y * width; i < (y + 1) * width; i++) sum += data[i];
    rows[y] = sum;
  }
  const most = Math.max(0, ...rows);
  if (most === 0) return [];
  let bands = bandsWhere(height, (y) => rows[y] >= ROW_INK * most);
  // Thin bands join their nearest neighbour, the thinnest first, until none is left alone.
  const tallest = Math.max(...bands.map(bandHeight));
  for (;;) {
    const thin = bands
      .map((b, i) => ({ b, i }))
      .filter(({ b }) => bandHeight(b) < THIN_BAND * tallest)
      .sort((p, q) => bandHeight(p.b) - bandHeight(q.b))[0];
    if (!thin || bands.length === 1) return bands;
    const { i } = thin;
    const above = i > 0 ? thin.b.from - bands[i - 1].to : Infinity;
    const below = i < bands.length - 1 ? bands[i + 1].from - thin.b.to : Infinity;
    const j = above <= below ? i - 1 : i + 1;
    const merged = {
      from: Math.min(bands[i].from, bands[j].from),
      to: Math.max(bands[i].to, bands[j].to),
    };
    bands = bands.flatMap((b, k) =>
      k === Math.min(i, j) ? [merged] : k === Math.max(i, j) ? [] : [b],
    );
  }
}

/** Rows `band` of `map`, as a map of their own. */
export function rowsOf(map: GrayImage, band: RowBand): GrayImage {
  return {
    width: map.width,
    height: bandHeight(band),
    data: map.data.slice(band.from * map.width, (band.to + 1) * map.width),
  };
}
