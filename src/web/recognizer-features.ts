/**
 * A Recognizer as the corrections' adaptation uses it (local-adaptation.ts): its thresholds,
 * the size of its feature vectors, and their extraction from 28x28 inputs in one pass. The
 * recognition worker answers the page's feature requests with it; tests use it directly.
 */
import { MODEL_SIZE } from '../core/image.ts';
import type { FeatureExtractor } from '../core/adaptation-steps.ts';
import type { UnsureThresholds } from '../core/unsure.ts';
import type { Recognizer } from '../recognizer/recognizer.ts';

/** What adapting answers to a user's corrections needs of the model. */
export interface AdaptationModel {
  readonly thresholds: UnsureThresholds;
  /** Values per feature vector; 0 if the model cannot give features. */
  readonly featureSize: number;
  readonly features: FeatureExtractor;
}

/** The features of `recognizer`'s network, taken at once, in order. */
export function featuresOf(
  recognizer: Recognizer,
  inputs: readonly ArrayLike<number>[],
): Float32Array[] {
  return recognizer
    .recognizeWithFeatures(
      inputs.map((input) => ({
        width: MODEL_SIZE,
        height: MODEL_SIZE,
        data: Float32Array.from(input),
      })),
      'off',
    )
    .map((answer) => answer.features);
}

/** A Recognizer in this thread as an AdaptationModel. */
export function adaptationModelOf(recognizer: Recognizer): AdaptationModel {
  return {
    thresholds: recognizer.thresholds,
    featureSize: recognizer.featureSize,
    features: (inputs) => featuresOf(recognizer, inputs),
  };
}
