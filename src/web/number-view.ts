/**
 * The number view: the digits of a reading as a strip of buttons (each digit, its confidence
 * and the 28x28 it was read from) and a box around each digit on the pad (or on the photo
 * read in its place). Picking a digit shows its probabilities and votes in the results view.
 *
 * The state and what to show for it are plain data and functions, unit-tested without a
 * browser (test/unit/number-view.test.ts); `mountNumberView` binds them to the DOM.
 */
import { describeAdaptation } from '../core/adapt.ts';
import { byteOfUnit } from '../core/image.ts';
import type { DigitReading, Reading } from '../recognizer/answers.ts';
import { percent } from './format.ts';

export interface NumberState {
  readonly reading: Reading | null;
  /** The picked digit's index in the reading. */
  readonly selected: number;
  /** The size of the image the reading's boxes are in (the pad's pixels, or the photo's). */
  readonly width: number;
  readonly height: number;
}

export const NO_NUMBER: NumberState = { reading: null, selected: 0, width: 1, height: 1 };

/**
 * Whether `reading`, of the drawing `previous` showed (after a correction, with another
 * ensemble), answers the same digits again: as many of them, so the picked one is the same.
 */
export function readsAgain(previous: NumberState | undefined, reading: Reading): boolean {
  return previous?.reading?.digits.length === reading.digits.length;
}

/**
 * A new reading, with its least sure digit picked: where a person should look first (the
 * first digit when all are sure alike). The same drawing answered again (`again`: after a
 * correction, another ensemble) keeps the digit the person picked (see readsAgain).
 */
export function showReading(
  reading: Reading,
  width: number,
  height: number,
  again?: NumberState,
): NumberState {
  if (again && readsAgain(again, reading))
    return { reading, selected: again.selected, width, height };
  let selected = 0;
  reading.digits.forEach((d, i) => {
    if (d.confidence < reading.digits[selected].confidence) selected = i;
  });
  return { reading, selected, width, height };
}

export function selectDigit(state: NumberState, index: number): NumberState {
  const count = state.reading?.digits.length ?? 0;
  if (count === 0) return state;
  return { ...state, selected: Math.max(0, Math.min(count - 1, index)) };
}

export function selectedDigit(state: NumberState): DigitReading | null {
  return state.reading?.digits[state.selected] ?? null;
}

/** What one digit of the strip shows; its box in percent of the pad. */
export interface DigitChip {
  readonly index: number;
  readonly digit: number;
  readonly confidence: string;
  readonly unsure: boolean;
  /** The user's corrections changed this digit (the results view says how when it is picked). */
  readonly adapted: boolean;
  readonly selected: boolean;
  readonly label: string;
  readonly box: { left: number; top: number; width: number; height: number };
  readonly input: readonly number[];
}

export function digitChips(state: NumberState): DigitChip[] {
  const { reading, width, height } = state;
  if (!reading) return [];
  const count = reading.digits.length;
  return reading.digits.map((d, index) => {
    const adapted = describeAdaptation(d) !== null;
    return {
      index,
      digit: d.digit,
      confidence: percent(d.confidence),
      unsure: d.unsure,
      adapted,
      selected: index === state.selected,
      label:
        `Digit ${index + 1} of ${count}: ${d.digit}, ${percent(d.confidence)} confidence` +
        (d.unsure ? ', not sure' : '') +
        (adapted ? ', read with your corrections' : ''),
      box: {
        left: (100 * d.box.x) / width,
        top: (100 * d.box.y) / height,
        width: (100 * d.box.width) / width,
        height: (100 * d.box.height) / height,
      },
      input: d.input,
    };
  });
}

/** What a screen reader hears for a new reading. */
export function describeReading(state: NumberState): string {
  const { reading } = state;
  if (!reading || reading.digits.length === 0) return '';
  const unsure = reading.digits.filter((d) => d.unsure).length;
  if (reading.digits.length === 1) {
    const d = reading.digits[0];
    return `Recognised ${d.digit}, ${percent(d.confidence)} confidence${unsure ? ', not sure' : ''}.`;
  }
  const doubt = unsure ? `, not sure of ${unsure} of them` : '';
  return `Read ${reading.text}: ${reading.digits.length} digits${doubt}.`;
}

/** Paints a 28x28 input (0..1, ink = 1) on a canvas of that size, white ink on black. */
export function drawInput(canvas: HTMLCanvasElement, input: readonly number[]): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const side = Math.round(Math.sqrt(input.length));
  const image = ctx.createImageData(side, side);
  input.forEach((v, i) => {
    const level = byteOfUnit(v);
    image.data.set([level, level, level, 255], i * 4);
  });
  ctx.putImageData(image, 0, 0);
}

export interface NumberView {
  /**
   * Shows `state`: its digits in the strip, and their boxes on `boxesOn`, the layer over what
   * was read (the pad, or the photo shown in its place); null takes the boxes off (the
   * drawing changed under them). The elements of the last render are updated, not made
   * again: picking another digit changes a few attributes, and a digit's 28x28 is painted
   * only when it is another.
   */
  render(state: NumberState, boxesOn: HTMLElement | null): void;
}

/** One digit's button in the strip, made once and updated by each render. */
interface ChipElements {
  readonly button: HTMLButtonElement;
  readonly value: HTMLElement;
  readonly seen: HTMLCanvasElement;
  readonly confidence: HTMLElement;
  /** The 28x28 painted on `seen`. */
  input: readonly number[] | null;
}

function makeChip(): ChipElements {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'number-digit';
  button.dataset.testid = 'digit';
  const value = document.createElement('span');
  value.className = 'number-digit-value';
  const seen = document.createElement('canvas');
  seen.width = 28;
  seen.height = 28;
  seen.className = 'number-digit-input';
  seen.dataset.testid = 'digit-input';
  const confidence = document.createElement('span');
  confidence.className = 'number-digit-confidence';
  confidence.dataset.testid = 'digit-confidence';
  button.append(value, seen, confidence);
  return { button, value, seen, confidence, input: null };
}

function updateChip(chip: ChipElements, shown: DigitChip): void {
  const { button } = chip;
  button.dataset.index = String(shown.index);
  button.setAttribute('aria-pressed', String(shown.selected));
  button.setAttribute('aria-label', shown.label);
  button.tabIndex = shown.selected ? 0 : -1;
  button.classList.toggle('unsure', shown.unsure);
  button.classList.toggle('adapted', shown.adapted);
  chip.value.textContent = String(shown.digit);
  chip.confidence.textContent = shown.confidence;
  if (chip.input !== shown.input) {
    drawInput(chip.seen, shown.input);
    chip.input = shown.input;
  }
}

function makeBox(): HTMLElement {
  const box = document.createElement('div');
  box.className = 'digit-outline';
  box.dataset.testid = 'digit-box';
  return box;
}

function updateBox(box: HTMLElement, shown: DigitChip, many: boolean): void {
  box.dataset.index = String(shown.index);
  box.classList.toggle('selected', shown.selected && many);
  box.classList.toggle('unsure', shown.unsure);
  Object.assign(box.style, {
    left: `${shown.box.left}%`,
    top: `${shown.box.top}%`,
    width: `${shown.box.width}%`,
    height: `${shown.box.height}%`,
  });
}

/** `items`, one for each of `count`, made as needed; those beyond `count` are removed. */
function resize<T>(items: T[], count: number, make: () => T, remove: (item: T) => void): void {
  while (items.length < count) items.push(make());
  for (const item of items.splice(count)) remove(item);
}

/** Whether `parent`'s children are `elements`, in order. */
function holdsExactly(parent: HTMLElement, elements: readonly HTMLElement[]): boolean {
  return (
    parent.children.length === elements.length &&
    elements.every((el, i) => parent.children[i] === el)
  );
}

/**
 * Binds the number view to the strip of digit buttons; `onSelect` is called with the index of
 * a digit picked (clicked, or reached with the arrow keys).
 */
export function mountNumberView(strip: HTMLElement, onSelect: (index: number) => void): NumberView {
  const chips: ChipElements[] = [];
  const boxes: HTMLElement[] = [];
  strip.addEventListener('click', (e) => {
    const button = (e.target as HTMLElement).closest<HTMLElement>('[data-index]');
    if (button) onSelect(Number(button.dataset.index));
  });
  strip.addEventListener('keydown', (e) => {
    const current = (e.target as HTMLElement).closest<HTMLElement>('[data-index]');
    if (!current || (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight')) return;
    e.preventDefault();
    const next = Number(current.dataset.index) + (e.key === 'ArrowRight' ? 1 : -1);
    onSelect(next);
    strip.querySelector<HTMLElement>(`[data-index="${next}"]`)?.focus();
  });
  return {
    render(state, boxesOn) {
      const shown = digitChips(state);
      strip.hidden = shown.length < 2;
      resize(chips, shown.length, makeChip, (chip) => chip.button.remove());
      shown.forEach((digit, i) => updateChip(chips[i], digit));
      const buttons = chips.map((chip) => chip.button);
      if (!holdsExactly(strip, buttons)) strip.replaceChildren(...buttons);

      // Boxes taken off are kept, to be put back with the next reading's.
      resize(boxes, shown.length, makeBox, (box) => box.remove());
      if (!boxesOn) {
        for (const box of boxes) box.remove();
        return;
      }
      shown.forEach((digit, i) => updateBox(boxes[i], digit, shown.length > 1));
      // Moved, when they were on the other layer (the pad's, the photo's).
      if (!holdsExactly(boxesOn, boxes)) boxesOn.replaceChildren(...boxes);
    },
  };
}
