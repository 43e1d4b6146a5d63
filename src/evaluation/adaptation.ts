/**
 * The adaptation protocol (issue 12): each writer writes copies of the digits in turn as one
 * user; whenever the answer is wrong, the right label is posted as a correction. Accuracy on
 * the later copies (every copy after a writer's first of that digit) with corrections is
 * compared with the model alone on the same drawings, overall and for every writer.
 */
import { adapt, CorrectionMemory, type AdaptationParams } from '../core/adapt.ts';

/** One drawing of a writer, as the recognizer answered it, with its features. */
/** A writer's identity (pen digits number them, UNIPEN names them). */
export type Writer = number | string;

export interface AnsweredDrawing {
  readonly writer: Writer;
  readonly label: number;
  /** Which copy of this digit it is for this writer: 0 for the first. */
  readonly copy: number;
  readonly digit: number;
  readonly probabilities: readonly number[];
  readonly features: Float32Array;
}

export interface WriterOutcome {
  readonly writer: Writer;
  /** Later copies (copy >= 1). */
  readonly count: number;
  readonly correctAlone: number;
  readonly correctAdapted: number;
  /** Corrections posted over the whole run (all copies). */
  readonly corrections: number;
}

/** A later copy still read wrong with corrections. */
export interface RemainingError {
  readonly writer: Writer;
  readonly copy: number;
  readonly label: number;
  /** What was answered. */
  readonly digit: number;
  /** The writer's corrections posted before it, and how many of them had this label. */
  readonly corrections: number;
  readonly ofLabel: number;
}

export interface ProtocolOutcome {
  readonly params: AdaptationParams;
  readonly count: number;
  readonly accuracyAlone: number;
  readonly accuracyAdapted: number;
  readonly corrections: number;
  /** The largest number of later copies a writer lost to adaptation (0: none got worse). */
  readonly worstLoss: number;
  /**
   * Later copies the model alone reads wrong where none of that writer's earlier copies of the
   * digit was wrong: no correction of the digit can precede them, so learning from corrections
   * of the same digit cannot reach above (count - firstErrors) / count.
   */
  readonly firstErrors: number;
  readonly writers: WriterOutcome[];
  readonly errors: RemainingError[];
}

/**
 * Orders a writer's drawings as they would be written in turn: the first copy of 0..9, then
 * the second copy of 0..9, and so on; `copy` counts a digit's earlier copies.
 */
export function inTurns<T extends { writer: Writer; label: number }>(
  drawings: readonly T[],
): (T & { copy: number })[] {
  const byWriter = new Map<Writer, (T & { copy: number })[]>();
  for (const drawing of drawings) {
    const list = byWriter.get(drawing.writer) ?? [];
    const copy = list.filter((d) => d.label === drawing.label).length;
    list.push({ ...drawing, copy });
    byWriter.set(drawing.writer, list);
  }
  return [...byWriter.keys()]
    .sort((a, b) => String(a).localeCompare(String(b), 'en', { numeric: true }))
    .flatMap((writer) =>
      (byWriter.get(writer) ?? []).sort((a, b) => a.copy - b.copy || a.label - b.label),
    );
}

/** Runs the protocol on drawings already in turn order (see inTurns). */
export function runProtocol(
  drawings: readonly AnsweredDrawing[],
  params: AdaptationParams,
): ProtocolOutcome {
  const writers = new Map<Writer, { memory: CorrectionMemory; outcome: WriterOutcome }>();
  const errors: RemainingError[] = [];
  const wrongAlone = new Set<string>();
  let firstErrors = 0;
  for (const drawing of drawings) {
    let state = writers.get(drawing.writer);
    if (!state) {
      state = {
        memory: new CorrectionMemory(drawing.features.length),
        outcome: {
          writer: drawing.writer,
          count: 0,
          correctAlone: 0,
          correctAdapted: 0,
          corrections: 0,
        },
      };
      writers.set(drawing.writer, state);
    }
    const answer = adapt(drawing, drawing.features, state.memory, params);
    const o = state.outcome as { -readonly [K in keyof WriterOutcome]: WriterOutcome[K] };
    if (drawing.copy >= 1) {
      o.count++;
      if (drawing.digit === drawing.label) o.correctAlone++;
      if (answer.digit === drawing.label) o.correctAdapted++;
      else {
        errors.push({
          writer: drawing.writer,
          copy: drawing.copy,
          label: drawing.label,
          digit: answer.digit,
          corrections: state.memory.size,
          ofLabel: state.memory.labels.filter((l) => l === drawing.label).length,
        });
      }
    }
    if (drawing.digit !== drawing.label) {
      const key = `${drawing.writer}:${drawing.label}`;
      if (drawing.copy >= 1 && !wrongAlone.has(key)) firstErrors++;
      wrongAlone.add(key);
    }
    if (answer.digit !== drawing.label) {
      state.memory.add(drawing.features, drawing.label);
      o.corrections++;
    }
  }
  const outcomes = [...writers.values()].map((w) => w.outcome);
  const sum = (key: keyof Omit<WriterOutcome, 'writer'>) =>
    outcomes.reduce((total, o) => total + o[key], 0);
  const count = sum('count');
  return {
    params,
    count,
    accuracyAlone: sum('correctAlone') / count,
    accuracyAdapted: sum('correctAdapted') / count,
    corrections: sum('corrections'),
    worstLoss: Math.max(0, ...outcomes.map((o) => o.correctAlone - o.correctAdapted)),
    firstErrors,
    writers: outcomes,
    errors,
  };
}

/**
 * The best settings of a grid: the highest accuracy with corrections among those where no
 * writer loses more than `maxLoss` drawings; ties go to the earlier (more cautious) entry.
 */
export function chooseParams(
  outcomes: readonly ProtocolOutcome[],
  maxLoss = 1,
): ProtocolOutcome | undefined {
  let best: ProtocolOutcome | undefined;
  for (const outcome of outcomes) {
    if (outcome.worstLoss > maxLoss) continue;
    if (!best || outcome.accuracyAdapted > best.accuracyAdapted) best = outcome;
  }
  return best;
}
