/**
 * Real scanned fields (the development checks) as the line model's strips: each image made
 * ready exactly as a reader makes an upload ready (paper made plain, print left out, the
 * strip cut), with its digits as tokens. Their separators are not labelled (the field's
 * benchmark scores digits only), so the model learns to pass them by as blank. Strips are
 * varied at each use (width, pen, place) so that 147 images teach the paper's writing and
 * not those images.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { affine } from '../core/affine.ts';
import { digitToken, type LineToken } from '../core/ctc.ts';
import type { GrayImage } from '../core/image.ts';
import { LINE_HEIGHT, LINE_STRIDE } from '../core/line-image.ts';
import { prepareLine } from '../core/line-reading.ts';
import type { Random } from '../core/random.ts';
import { loadScannedFields, readField } from '../data/scanned-fields.ts';
import { decodeImage } from '../node/decode.ts';
import { isValidationField } from './config.ts';
import { resizeBilinear } from './image-numbers.ts';

export interface FieldStrip {
  readonly path: string;
  readonly image: GrayImage;
  readonly tokens: LineToken[];
  readonly text: string;
}

/** The fields of one split (none when the folder has no labels.tsv), as strips. */
export async function loadFieldStrips(
  dir: string,
  split: 'training' | 'validation',
): Promise<FieldStrip[]> {
  try {
    await access(join(dir, 'labels.tsv'));
  } catch {
    return [];
  }
  const fields = (await loadScannedFields(dir)).filter(
    (f) => isValidationField(f.path) === (split === 'validation'),
  );
  const strips: FieldStrip[] = [];
  for (const field of fields) {
    const line = prepareLine(decodeImage(await readField(dir, field)));
    if (!line) continue;
    const tokens = [...field.digits].map((d) => digitToken(Number(d)));
    strips.push({ path: field.path, image: line.strip.image, tokens, text: field.digits });
  }
  return strips;
}

/** The darkest (or lightest, `min`) of each pixel's 3x3 neighbourhood: a wider or thinner pen. */
function morph(img: GrayImage, pick: (a: number, b: number) => number): GrayImage {
  const { width: w, height: h, data } = img;
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let v = data[y * w + x];
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const yy = y + dy;
          const xx = x + dx;
          if (yy >= 0 && yy < h && xx >= 0 && xx < w) v = pick(v, data[yy * w + xx]);
        }
      out[y * w + x] = v;
    }
  return { width: w, height: h, data: out };
}

/**
 * A strip varied: stretched or squeezed across by up to `stretch`, leaned by up to `shear`,
 * its pen made wider or thinner now and then, moved up or down by up to two rows. Never so
 * narrow that its tokens no longer fit CTC's two columns each.
 */
export function varyStrip(strip: FieldStrip, rng: Random, stretch = 0.2, shear = 0.25): GrayImage {
  let img = strip.image;
  const factor = 1 + rng.uniform(-stretch, stretch);
  const minWidth = 2 * LINE_STRIDE * strip.tokens.length;
  const width = Math.max(minWidth, Math.ceil((img.width * factor) / LINE_STRIDE) * LINE_STRIDE);
  img = affine(resizeBilinear(img, width, LINE_HEIGHT), { shear: rng.uniform(-shear, shear) });
  const pen = rng.next();
  if (pen < 0.2) img = morph(img, Math.max);
  else if (pen < 0.35) img = morph(img, Math.min);
  const shift = rng.int(5) - 2;
  if (shift === 0) return img;
  const data = new Float32Array(img.width * LINE_HEIGHT);
  for (let y = 0; y < LINE_HEIGHT; y++) {
    const from = y - shift;
    if (from >= 0 && from < LINE_HEIGHT)
      data.set(img.data.subarray(from * img.width, (from + 1) * img.width), y * img.width);
  }
  return { width: img.width, height: LINE_HEIGHT, data };
}
