/**
 * Pen-written samples as extra training data, rendered as a drawing pad shows them and
 * preprocessed to 28x28 once, before training. MNIST's American-style digits leave out styles
 * people draw every day (a 1 with a long flag, a 9 with a small curled loop, a crossed zero),
 * and have nothing that is not a digit: the pen digits, the UNIPEN digits and the UNIPEN
 * letters, symbols and generated scribbles (label NOT_A_DIGIT) supply both. Validation writers
 * are left out by the caller, so their figures (npm run eval) measure new people.
 */
import { MODEL_PIXELS } from '../core/image.ts';
import { preprocess } from '../core/preprocess.ts';
import type { Random } from '../core/random.ts';
import { augmentStrokes, type StrokeAugmentConfig } from '../core/stroke-augment.ts';
import type { DigitSet } from '../data/mnist.ts';
import type { PenStroke } from '../data/pen-text.ts';
import { PEN_BOX } from '../data/pendigits.ts';
import { renderStrokes } from '../node/render-strokes.ts';

/** A labelled drawing in the 500-unit pen box, y up. */
export interface PenSample {
  readonly label: number;
  readonly strokes: readonly PenStroke[];
}

/** How an epoch draws from a rendered set. */
export interface SetSampling {
  /** Items: rendering v of item i is at index v * items + i. */
  readonly items: number;
  /** Renderings of each item (one per brush); an epoch uses one, picked at random. */
  readonly variants: number;
  /**
   * Items an epoch draws: all of them unless fewer are asked for; more than the items draws
   * every item that many times over (each time at a random rendering and augmentation).
   */
  readonly perEpoch: number;
}

export interface RenderedSet extends DigitSet, SetSampling {}

export interface RenderOptions {
  /** Draw this many items an epoch instead of all (more than the items: some twice or more). */
  readonly perEpoch?: number;
  /** Render each item once, at a brush picked with this generator, instead of at every brush. */
  readonly oneBrushEach?: Random;
  /**
   * Render each item this many more times at every brush, its strokes augmented each time
   * (stroke-augment.ts): the writers' own proportions, varied.
   */
  readonly strokeVariants?: {
    readonly count: number;
    readonly config: StrokeAugmentConfig;
    readonly rng: Random;
  };
}

/**
 * Renders every sample at every brush width (or at one random brush each), as written and
 * then `strokeVariants.count` times augmented.
 */
export async function renderSet(
  samples: readonly PenSample[],
  brushes: readonly number[],
  options: RenderOptions = {},
): Promise<RenderedSet> {
  const items = samples.length;
  const widths = options.oneBrushEach ? 1 : brushes.length;
  const augmented = options.strokeVariants;
  const variants = widths * (1 + (augmented?.count ?? 0));
  const count = items * variants;
  const images = new Uint8Array(count * MODEL_PIXELS);
  const labels = new Uint8Array(count);
  for (let v = 0; v < variants; v++) {
    for (const [i, sample] of samples.entries()) {
      const index = v * items + i;
      const brush = options.oneBrushEach
        ? brushes[options.oneBrushEach.int(brushes.length)]
        : brushes[v % widths];
      const strokes =
        augmented && v >= widths
          ? augmentStrokes(sample.strokes, augmented.config, PEN_BOX, augmented.rng, sample.label)
          : sample.strokes;
      const input = preprocess(await renderStrokes(strokes, { brush }), 'dark');
      if (input) {
        for (let p = 0; p < MODEL_PIXELS; p++)
          images[index * MODEL_PIXELS + p] = Math.round(input.data[p] * 255);
      }
      labels[index] = sample.label;
    }
  }
  return {
    images,
    labels,
    count,
    items,
    variants,
    perEpoch: options.perEpoch ?? items,
  };
}

/** Sets one after the other, as one set for batching. */
export function concatSets(sets: readonly DigitSet[]): DigitSet {
  const count = sets.reduce((n, s) => n + s.count, 0);
  const images = new Uint8Array(count * MODEL_PIXELS);
  const labels = new Uint8Array(count);
  let offset = 0;
  for (const s of sets) {
    images.set(s.images.subarray(0, s.count * MODEL_PIXELS), offset * MODEL_PIXELS);
    labels.set(s.labels.subarray(0, s.count), offset);
    offset += s.count;
  }
  return { images, labels, count };
}

/** Indices, into a concatenation starting at `offset`, of one epoch's draw from a set. */
export function drawEpoch(set: SetSampling, offset: number, rng: Random): number[] {
  const chosen: number[] = [];
  for (let left = set.perEpoch; left > 0 && set.items > 0; left -= set.items) {
    const order = Array.from({ length: set.items }, (_, i) => i);
    chosen.push(...(left < set.items ? rng.shuffle(order).slice(0, left) : order));
  }
  return chosen.map((i) => offset + rng.int(set.variants) * set.items + i);
}
