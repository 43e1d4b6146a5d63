/**
 * Adapting answers to one user's corrections, in the network's own feature space (the
 * penultimate layer, src/recognizer/features.ts). A correction is a drawing of this user
 * the model read wrong, with the right digit. For a new drawing, the corrections within
 * `minSimilarity` (cosine) of it, at most the `k` nearest, are evidence for their labels:
 * each adds strength x exp(-(1 - similarity) / width) to its label's log-probability (a
 * product of experts with the model). That is a Gaussian kernel on the unit feature vectors
 * (|a - b|^2 = 2 (1 - cosine)): a near copy of a corrected drawing carries almost the full
 * strength, enough to overrule even a confident model (the writer said what it is), and the
 * evidence fades quickly with distance, so a loosely similar correction only tips a close
 * call. (A weight growing only linearly with similarity, tried first, could not do both.) The model's own probabilities stay a factor, so a correction can
 * only promote a digit the model found at least somewhat plausible: one odd correction does
 * not turn every similar, clearly read drawing into its label (measured: blending the
 * neighbours' vote linearly with the model did exactly that, and gained nothing overall).
 * A drawing close to no correction keeps the model's answer exactly. Pure: the server and
 * the in-browser page run the same code.
 */

import { aDigit } from './classes.ts';
import { judge, type Uncertainty, type UnsureThresholds } from './unsure.ts';
import type { Decision } from './vote.ts';

export interface AdaptationParams {
  /** Nearest corrections that count. */
  readonly k: number;
  /** Cosine similarity a correction needs to count at all (ReLU features: 0..1). */
  readonly minSimilarity: number;
  /** Log-odds a correction as close as can be (similarity 1) adds to its label. */
  readonly strength: number;
  /** How fast that fades as similarity falls: to 1/e of it at similarity 1 - width. */
  readonly width: number;
}

/**
 * Measured with `npm run eval:adapt` (docs/benchmarks.md, "Adapting to corrections"): chosen
 * with the model of the time on the pen-digit validation writers, the fewest errors at both
 * brushes with no writer worse off; the UNIPEN validation writers gain with it too, and so do
 * both with the model shipped since. Below similarity 0.2 a correction would
 * add under 0.2 log-odds: it is not counted (nor reported as a neighbour).
 */
export const ADAPTATION: AdaptationParams = { k: 3, minSimilarity: 0.2, strength: 12, width: 0.2 };

/** One user's corrections as unit-length feature vectors and their labels. */
export class CorrectionMemory {
  private vectors: Float32Array;
  private labelList: number[] = [];

  constructor(readonly dimension: number) {
    this.vectors = new Float32Array(dimension * 16);
  }

  get size(): number {
    return this.labelList.length;
  }

  get labels(): readonly number[] {
    return this.labelList;
  }

  add(features: ArrayLike<number>, label: number): void {
    if (features.length !== this.dimension) {
      throw new RangeError(`expected ${this.dimension} features, got ${features.length}`);
    }
    if (!Number.isInteger(label) || label < 0 || label > 9) {
      throw new RangeError(`a label is a digit 0-9, not ${label}`);
    }
    const n = this.labelList.length;
    if ((n + 1) * this.dimension > this.vectors.length) {
      const grown = new Float32Array(this.vectors.length * 2);
      grown.set(this.vectors);
      this.vectors = grown;
    }
    this.vectors.set(unit(features), n * this.dimension);
    this.labelList.push(label);
  }

  /** Cosine similarity of a unit-length `query` to every correction, in insertion order. */
  similarities(query: Float32Array): Float32Array {
    const d = this.dimension;
    const out = new Float32Array(this.size);
    for (let i = 0; i < out.length; i++) {
      let dot = 0;
      const offset = i * d;
      for (let j = 0; j < d; j++) dot += query[j] * this.vectors[offset + j];
      out[i] = dot;
    }
    return out;
  }
}

/** The vector scaled to length 1 (all zeros stays all zeros). */
export function unit(values: ArrayLike<number>): Float32Array {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] * values[i];
  const scale = sum > 0 ? 1 / Math.sqrt(sum) : 0;
  return Float32Array.from(values, (v) => v * scale);
}

export interface Adapted {
  readonly digit: number;
  readonly confidence: number;
  readonly probabilities: number[];
  /** The probability that the drawing is not a digit, given the corrections too. */
  readonly notDigit: number;
  /** Corrections that were close enough to vote (0: the model's answer, unchanged). */
  readonly neighbours: number;
}

function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** The log-odds a correction at `similarity` adds to its label. */
export function evidence(similarity: number, params: AdaptationParams): number {
  return params.strength * Math.exp(-(1 - similarity) / params.width);
}

/**
 * A correction this similar is of this very drawing (the same image sent again, or the page
 * reading the corrected drawing again: similarity 1): its label wins however sure the model
 * is, which evidence alone cannot do for the surest answers (a clear 1 at p 0.99995 is 13.6
 * log-odds ahead of a 7). A near copy (0.99) is left to the evidence: one odd correction
 * must not turn a writer's clear drawings of another digit.
 */
const SAME_DRAWING = 0.999;

/** Probabilities smaller than this count as this (log of zero). */
const FLOOR = 1e-12;

/**
 * Evidence, in log-odds, that the corrections must add to the top digit over the model's own
 * decision to overrule it when the variants' vote and their mean probability disagreed: a
 * vote is not undone by a loose likeness, but is by a corrected drawing like this one.
 */
const SWAY = 1;

/**
 * The answer for a drawing with `features`, given the model's `probabilities` and `digit`
 * (its own decision, e.g. the variants' vote), its `notDigit` probability, and the user's
 * corrections. The corrections are labelled digits, so the evidence they add counts against
 * "not a digit" too: the eleven outputs (ten digits and "not a digit") are renormalized with
 * it. The model's own decision stands unless the corrections moved the most probable digit,
 * or pushed it ahead of that decision by at least SWAY.
 */
export function adapt(
  model: {
    readonly digit: number;
    readonly probabilities: readonly number[];
    readonly notDigit?: number;
  },
  features: ArrayLike<number>,
  memory: CorrectionMemory,
  params: AdaptationParams = ADAPTATION,
): Adapted {
  const notDigit = model.notDigit ?? 0;
  const unchanged: Adapted = {
    digit: model.digit,
    confidence: model.probabilities[model.digit],
    probabilities: [...model.probabilities],
    notDigit,
    neighbours: 0,
  };
  if (memory.size === 0) return unchanged;
  const similarities = memory.similarities(unit(features));
  // The k most similar above the threshold (k is small: a partial selection).
  const chosen: number[] = [];
  for (let i = 0; i < similarities.length; i++) {
    if (similarities[i] < params.minSimilarity) continue;
    chosen.push(i);
    chosen.sort((a, b) => similarities[b] - similarities[a]);
    if (chosen.length > params.k) chosen.pop();
  }
  if (chosen.length === 0) return unchanged;
  const added = new Array<number>(model.probabilities.length).fill(0);
  for (const i of chosen) added[memory.labels[i]] += evidence(similarities[i], params);
  const weights = model.probabilities.map((p, d) => Math.max(p, FLOOR) * Math.exp(added[d]));
  // The newest correction of this very drawing decides: a user may correct their correction.
  const same = chosen.filter((i) => similarities[i] >= SAME_DRAWING);
  if (same.length > 0) {
    const newest = Math.max(...same);
    const label = memory.labels[newest];
    const top = Math.max(...weights);
    weights[label] = Math.max(
      weights[label],
      top * Math.exp(evidence(similarities[newest], params)),
    );
  }
  const total = weights.reduce((a, b) => a + b, 0);
  const probabilities = weights.map((w) => w / total);
  const best = argmax(probabilities);
  const swayed = best !== argmax(model.probabilities) || added[best] - added[model.digit] >= SWAY;
  const digit = swayed ? best : model.digit;
  return {
    digit,
    confidence: probabilities[digit],
    probabilities,
    // The digits' share grew by `total` (the probabilities summed to 1 before the evidence).
    notDigit: notDigit / (notDigit + (1 - notDigit) * total),
    neighbours: chosen.length,
  };
}

/** How a user's corrections changed an answer (the API's `adaptation`). */
export interface AdaptationInfo {
  /** The user's corrections consulted. */
  readonly corrections: number;
  /** Those close enough to this drawing to count (0: the model's answer, unchanged). */
  readonly neighbours: number;
  /** What the model alone answered. */
  readonly modelDigit: number;
}

/**
 * A model's answer (a recognition) adapted to the corrections, and what adaptation did:
 * its digit, confidence and probabilities adapted, and, when corrections counted, whether it
 * is unsure judged again on them with the model's `thresholds` (a drawing read as the user's
 * 1 with 99% is not "A 1 or a 7?"); the votes and everything else as they were.
 */
export function adaptAnswer<A extends Decision & Uncertainty & { readonly notDigit: number }>(
  answer: A,
  features: ArrayLike<number>,
  memory: CorrectionMemory,
  thresholds: UnsureThresholds,
  params: AdaptationParams = ADAPTATION,
): A & { adaptation: AdaptationInfo } {
  const adapted = adapt(answer, features, memory, params);
  const adaptation: AdaptationInfo = {
    corrections: memory.size,
    neighbours: adapted.neighbours,
    modelDigit: answer.digit,
  };
  if (adapted.neighbours === 0) return { ...answer, adaptation };
  const decision: Decision = {
    digit: adapted.digit,
    confidence: adapted.confidence,
    probabilities: adapted.probabilities,
    votes: answer.votes,
    variants: answer.variants,
  };
  return {
    ...answer,
    ...decision,
    notDigit: adapted.notDigit,
    // The model's verdict is replaced whole: an answer no longer unsure lists no alternatives.
    alternatives: undefined,
    ...judge(decision, adapted.notDigit, thresholds),
    adaptation,
  };
}

/**
 * What to tell a person when their corrections changed an answer, in plain words; null when
 * they did not (no corrections near the drawing, or the model's digit stood). The votes the
 * page shows are the model's own, so without this an adapted answer would contradict them.
 */
export function describeAdaptation(answer: {
  readonly digit: number;
  readonly adaptation?: AdaptationInfo;
}): string | null {
  const a = answer.adaptation;
  if (!a || a.neighbours === 0 || a.modelDigit === answer.digit) return null;
  return `Read with your corrections: the model alone reads ${aDigit(a.modelDigit)}.`;
}
