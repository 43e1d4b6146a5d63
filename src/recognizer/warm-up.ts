/**
 * What a recognizer reads before it says it is ready, in the browser's worker and in the
 * server's: synthetic drawings of one, three and five slanted bars, which take every step a
 * drawing goes through (the line model, segmentation, the digit model with and without its
 * variants), read WARM_UP_ROUNDS times. The first passes of each network cost most; the second
 * round makes the JavaScript of preprocessing and reading hot as well: with one drawing read
 * once, the first readings of real drawings took 2-3x their later time (bench:web,
 * runs/ana/srv.ts: a server's first readings of one digit 19-27 ms, then 6-9 ms).
 */
import type { GrayBitmap } from '../core/preprocess.ts';

export const WARM_UP_ROUNDS = 2;

/** Dark bars on white, 64 px high, one digit's width apart. */
export function warmUpDrawings(): GrayBitmap[] {
  return [1, 3, 5].map((bars) => {
    const height = 64;
    const width = 16 + bars * 40;
    const data = new Uint8ClampedArray(width * height).fill(255);
    for (let b = 0; b < bars; b++) {
      for (let y = 8; y < 56; y++) {
        const x0 = 12 + b * 40 + Math.round((56 - y) / 3);
        for (let x = x0 - 3; x <= x0 + 3; x++) data[y * width + x] = 0;
      }
    }
    return { width, height, data };
  });
}
