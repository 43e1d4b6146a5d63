/**
 * An honest answer (design.md, "Unsure"): whether a drawing is not a digit at all, or is
 * ambiguous between digits, decided from the variants' combined output. Scores are chosen
 * and thresholds calibrated on validation writers by `npm run calibrate`, which stores them
 * in the model folder (docs/benchmarks.md has the comparison of scores).
 */
import { aDigit } from './classes.ts';
import type { Decision } from './vote.ts';

export type UnsureReason = 'not_a_digit' | 'ambiguous';

export interface Alternative {
  readonly digit: number;
  readonly confidence: number;
}

export interface Uncertainty {
  readonly unsure: boolean;
  readonly reason: UnsureReason | null;
  /** When ambiguous: the next most likely digits, most likely first. */
  readonly alternatives?: Alternative[];
}

export interface UnsureThresholds {
  /** Flag "not a digit" when the mean "not a digit" probability over the variants is at least this. */
  readonly notDigit: number;
  /** Flag "ambiguous" when the winning digit's mean probability is below this. */
  readonly ambiguous: number;
}

/**
 * Used until a model is calibrated: "not a digit" past an even chance (never, for a ten-class
 * model), "ambiguous" when the best digit has under 60% (calibrated values in model.json).
 */
export const DEFAULT_THRESHOLDS: UnsureThresholds = { notDigit: 0.5, ambiguous: 0.6 };

/** An alternative is listed when its mean probability is at least this share of the winner's. */
const ALTERNATIVE_SHARE = 0.1;
const MAX_ALTERNATIVES = 3;

/** The scores the decision can use; `npm run calibrate` measures how well each separates. */
export interface UncertaintyScores {
  /** Mean probability of "not a digit" (0 for a ten-class model). */
  readonly notDigit: number;
  /** 1 - the winner's mean probability. */
  readonly lowConfidence: number;
  /** 1 - (winner's mean probability - runner-up's). */
  readonly smallMargin: number;
  /** 1 - the winner's share of the votes. */
  readonly split: number;
}

function ranked(decision: Decision): number[] {
  return decision.probabilities
    .map((_, digit) => digit)
    .filter((digit) => digit !== decision.digit)
    .sort((a, b) => decision.probabilities[b] - decision.probabilities[a]);
}

export function uncertaintyScores(decision: Decision, notDigit: number): UncertaintyScores {
  const runnerUp = decision.probabilities[ranked(decision)[0]];
  return {
    notDigit,
    lowConfidence: 1 - decision.confidence,
    smallMargin: 1 - (decision.confidence - runnerUp),
    split: 1 - decision.votes[decision.digit] / decision.variants,
  };
}

/** The verdict for one combined answer. */
export function judge(
  decision: Decision,
  notDigit: number,
  thresholds: UnsureThresholds = DEFAULT_THRESHOLDS,
): Uncertainty {
  if (notDigit >= thresholds.notDigit) return { unsure: true, reason: 'not_a_digit' };
  if (decision.confidence >= thresholds.ambiguous) return { unsure: false, reason: null };
  const floor = decision.confidence * ALTERNATIVE_SHARE;
  const others = ranked(decision);
  const alternatives = others
    .filter((digit, i) => i === 0 || decision.probabilities[digit] >= floor)
    .slice(0, MAX_ALTERNATIVES)
    .map((digit) => ({ digit, confidence: decision.probabilities[digit] }));
  return { unsure: true, reason: 'ambiguous', alternatives };
}

/** What to tell a person, in plain words, when an answer is unsure; null when it is sure. */
export function describeUncertainty(r: Pick<Decision, 'digit'> & Uncertainty): string | null {
  if (!r.unsure) return null;
  if (r.reason === 'not_a_digit') return "That doesn't look like a digit.";
  const others = (r.alternatives ?? []).map((a) => a.digit);
  if (others.length === 0) return `Not sure it is ${aDigit(r.digit)}.`;
  const all = [r.digit, ...others];
  const named = all.map(aDigit);
  const question = `${named.slice(0, -1).join(', ')} or ${named[named.length - 1]}?`;
  return question[0].toUpperCase() + question.slice(1);
}
