/**
 * The model's classes: the ten digits, and, for models trained with examples of what is not
 * a digit (letters, symbols, scribbles), an eleventh class for them. Answers always give ten
 * digit probabilities; the eleventh only feeds the "not a digit" decision (see unsure.ts).
 */
export const DIGITS = 10;
/** The label and output index of "not a digit" in an eleven-class model. */
export const NOT_A_DIGIT = 10;

/** A digit named in a sentence: "a 7", "an 8". */
export const aDigit = (digit: number): string => `${digit === 8 ? 'an' : 'a'} ${digit}`;
