/**
 * The steps around the maths of adapt.ts that the server and the page both take: a user's
 * corrections made into a memory, and a number's digits adapted to it. What differs between
 * them is where the network runs (the server's workers, as a request's work; the page's own
 * copy, at once), so the feature extractor is passed in, as segmentNumber takes the model's
 * scoring. Pure: no Node or DOM.
 */
import {
  adaptAnswer,
  ADAPTATION,
  CorrectionMemory,
  type AdaptationInfo,
  type AdaptationParams,
} from './adapt.ts';
import type { Uncertainty, UnsureThresholds } from './unsure.ts';
import type { Decision } from './vote.ts';

/**
 * The network's feature vectors (src/recognizer/features.ts) of 28x28 inputs (0..1), in one
 * pass, in order; null for an input whose features could not be taken. A pass that cannot be
 * run at all throws (or rejects).
 */
export type FeatureExtractor = (
  inputs: readonly ArrayLike<number>[],
) => readonly (Float32Array | null)[] | Promise<readonly (Float32Array | null)[]>;

/** A correction whose features are known: what a memory is made of. */
export interface Learned {
  readonly label: number;
  readonly features: Float32Array;
}

/** A correction as stored: the 28x28 the model saw (0..1) and the right digit. */
export interface Taught {
  readonly label: number;
  readonly input: ArrayLike<number>;
}

/** A user's corrections as the adaptation needs them. */
export interface UserMemory {
  readonly memory: CorrectionMemory;
  /** Each correction's features and label, in the order given (to reuse on a later build). */
  readonly learned: Learned[];
}

/**
 * The memory of `corrections`, in their order: the features of those not yet learned taken in
 * one pass of `featuresOf` (a correction's never change, so a caller that kept them passes
 * them back). Of no corrections, a memory of `dimension` (by default 0: no particular size
 * yet). Throws if a correction's features could not be taken: a memory missing one would
 * adapt as if the user had never made it.
 */
export async function buildMemory(
  corrections: readonly (Taught | Learned)[],
  featuresOf: FeatureExtractor,
  dimension?: number,
): Promise<UserMemory> {
  const unknown = corrections.filter((c): c is Taught => !('features' in c));
  const computed = unknown.length ? await featuresOf(unknown.map((c) => c.input)) : [];
  let next = 0;
  const learned = corrections.map((c): Learned => {
    if ('features' in c) return c;
    const features = computed[next++];
    if (!features) throw new Error(`the features of a correction (a ${c.label}) were not taken`);
    return { label: c.label, features };
  });
  const memory = new CorrectionMemory(dimension ?? learned[0]?.features.length ?? 0);
  for (const { features, label } of learned) memory.add(features, label);
  return { memory, learned };
}

/** An answer that can be adapted: the model's decision on a 28x28 input (0..1). */
export type Adaptable = Decision &
  Uncertainty & { readonly notDigit: number; readonly input: ArrayLike<number> };

/**
 * A number's digits (or any answers) adapted to `memory`, their features taken in one pass
 * of `featuresOf`. With no corrections the network is not run; a digit whose features were
 * not taken keeps the model's answer. Either way each says what adaptation did
 * (`adaptation`, neighbours 0 when nothing counted). A pass that fails rejects: the caller
 * decides what an unadapted answer is.
 */
export async function adaptDigits<D extends Adaptable>(
  digits: readonly D[],
  memory: CorrectionMemory,
  featuresOf: FeatureExtractor,
  thresholds: UnsureThresholds,
  params: AdaptationParams = ADAPTATION,
): Promise<(D & { adaptation: AdaptationInfo })[]> {
  const features =
    memory.size > 0 && digits.length > 0 ? await featuresOf(digits.map((d) => d.input)) : [];
  return digits.map((digit, i) => {
    const found = features[i];
    if (found) return adaptAnswer(digit, found, memory, thresholds, params);
    const adaptation: AdaptationInfo = {
      corrections: memory.size,
      neighbours: 0,
      modelDigit: digit.digit,
    };
    return { ...digit, adaptation };
  });
}
