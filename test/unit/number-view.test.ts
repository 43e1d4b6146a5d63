/** The page's number view as data: what it shows for a reading, without a browser. */
import { describe, expect, it } from 'vitest';
import {
  describeReading,
  digitChips,
  NO_NUMBER,
  selectDigit,
  selectedDigit,
  showReading,
} from '../../src/web/number-view.ts';
import { digit, reading } from './digit-readings.ts';

describe('the number view', () => {
  it('picks the least sure digit of a new reading', () => {
    const state = showReading(
      reading([digit(2, 0.99, 0), digit(0, 0.55, 200), digit(2, 0.97, 400)]),
      800,
      400,
    );
    expect(state.selected).toBe(1);
    expect(selectedDigit(state)?.digit).toBe(0);
  });

  it('keeps the picked digit when the same drawing is answered again', () => {
    const first = showReading(reading([digit(5, 0.99, 0), digit(7, 0.6, 200)]), 800, 400);
    const picked = selectDigit(first, 0);
    // After a correction of the 5 the 7 is still the least sure, but the 5 stays picked.
    const again = reading([digit(2, 0.9, 0), digit(7, 0.6, 200)]);
    expect(showReading(again, 800, 400, picked).selected).toBe(0);
    expect(showReading(again, 800, 400).selected).toBe(1);
    // Read as more digits than before: a new reading, the least sure picked.
    const three = reading([digit(2, 0.9, 0), digit(7, 0.6, 200), digit(1, 0.95, 300)]);
    expect(showReading(three, 800, 400, picked).selected).toBe(1);
  });

  it('shows each digit with its confidence, doubt and box in percent of the pad', () => {
    const state = showReading(reading([digit(4, 0.999, 0), digit(7, 0.5, 400)]), 800, 400);
    const chips = digitChips(state);
    expect(chips.map((c) => [c.digit, c.confidence, c.unsure, c.selected])).toEqual([
      [4, '99.9%', false, false],
      [7, '50%', true, true],
    ]);
    expect(chips[1].box).toEqual({ left: 50, top: 12.5, width: 12.5, height: 37.5 });
    expect(chips[1].label).toBe('Digit 2 of 2: 7, 50% confidence, not sure');
  });

  it("marks a digit the user's corrections changed, and says so to a screen reader", () => {
    const corrected = {
      ...digit(1, 0.99, 400),
      adaptation: { corrections: 3, neighbours: 1, modelDigit: 7 },
    };
    const agreed = {
      ...digit(2, 0.99, 0),
      adaptation: { corrections: 3, neighbours: 1, modelDigit: 2 },
    };
    const chips = digitChips(showReading(reading([agreed, corrected]), 800, 400));
    expect(chips.map((c) => c.adapted)).toEqual([false, true]);
    expect(chips[1].label).toBe('Digit 2 of 2: 1, 99% confidence, read with your corrections');
  });

  it('moves the pick within the number, and not at all without one', () => {
    const state = showReading(reading([digit(1, 0.9, 0), digit(2, 0.9, 100)]), 400, 200);
    expect(selectDigit(state, 1).selected).toBe(1);
    expect(selectDigit(state, 5).selected).toBe(1);
    expect(selectDigit(state, -3).selected).toBe(0);
    expect(selectDigit(NO_NUMBER, 2)).toBe(NO_NUMBER);
    expect(digitChips(NO_NUMBER)).toEqual([]);
    expect(selectedDigit(NO_NUMBER)).toBeNull();
  });

  it('announces one digit as a digit and a number as a number', () => {
    expect(describeReading(showReading(reading([digit(3, 0.98, 0)]), 100, 100))).toBe(
      'Recognised 3, 98% confidence.',
    );
    expect(
      describeReading(showReading(reading([digit(1, 0.98, 0), digit(9, 0.4, 50)]), 100, 100)),
    ).toBe('Read 19: 2 digits, not sure of 1 of them.');
    expect(describeReading(NO_NUMBER)).toBe('');
  });
});
