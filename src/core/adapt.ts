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

/** Probabilities smaller than this count as this (log of zero). */
const FLOOR = 1e-12;

/**
 * The answer for a drawing with `features`, given the model's `probabilities` and `digit`
 * (its own decision, e.g. the variants' vote) and the user's corrections. When the
 * corrections do not move the most probable digit, the model's own decision stands.
 */
export function adapt(
  model: { readonly digit: number; readonly probabilities: readonly number[] },
  features: ArrayLike<number>,
  memory: CorrectionMemory,
  params: AdaptationParams = ADAPTATION,
): Adapted {
  const unchanged: Adapted = {
    digit: model.digit,
    confidence: model.probabilities[model.digit],
    probabilities: [...model.probabilities],
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
  const logits = model.probabilities.map((p) => Math.log(Math.max(p, FLOOR)));
  for (const i of chosen) logits[memory.labels[i]] += evidence(similarities[i], params);
  const top = Math.max(...logits);
  const exps = logits.map((v) => Math.exp(v - top));
  const total = exps.reduce((a, b) => a + b, 0);
  const probabilities = exps.map((v) => v / total);
  const best = argmax(probabilities);
  const digit = best === argmax(model.probabilities) ? model.digit : best;
  return { digit, confidence: probabilities[digit], probabilities, neighbours: chosen.length };
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
 * A model's answer (a recognition) with its digit, confidence and probabilities adapted to
 * the corrections, and what adaptation did; everything else as it was.
 */
export function adaptAnswer<
  A extends {
    readonly digit: number;
    readonly confidence: number;
    readonly probabilities: readonly number[];
  },
>(
  answer: A,
  features: ArrayLike<number>,
  memory: CorrectionMemory,
  params: AdaptationParams = ADAPTATION,
): A & { adaptation: AdaptationInfo } {
  const adapted = adapt(answer, features, memory, params);
  return {
    ...answer,
    digit: adapted.digit,
    confidence: adapted.confidence,
    probabilities: adapted.probabilities,
    adaptation: {
      corrections: memory.size,
      neighbours: adapted.neighbours,
      modelDigit: answer.digit,
    },
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
  return `Read with your corrections: the model alone reads a ${a.modelDigit}.`;
}
