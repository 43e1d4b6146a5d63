/**
 * The number view: the digits of a reading as a strip of buttons (each digit, its confidence
 * and the 28x28 it was read from) and a box around each digit on the pad (or on the photo
 * read in its place). Picking a digit
 * shows its probabilities and votes in the results view.
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

export interface NumberViewElements {
  /** The strip of digit buttons. */
  readonly strip: HTMLElement;
  /** A layer over the pad that holds the digits' boxes. */
  readonly overlay: HTMLElement;
}

export interface NumberView {
  render(state: NumberState): void;
  /** Takes the boxes off the pad (the drawing changed under them). */
  hideBoxes(): void;
  /**
   * Where the next render draws the boxes: the layer over what was read (the pad, or a
   * photo shown in its place). The boxes of the previous layer are taken off.
   */
  drawBoxesOn(overlay: HTMLElement): void;
}

/** Binds the number view to the page; `onSelect` is called with the index of a picked digit. */
export function mountNumberView(
  elements: NumberViewElements,
  onSelect: (index: number) => void,
): NumberView {
  const { strip } = elements;
  let overlay = elements.overlay;
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
    hideBoxes: () => overlay.replaceChildren(),
    drawBoxesOn(next) {
      overlay.replaceChildren();
      overlay = next;
    },
    render(state) {
      const chips = digitChips(state);
      strip.hidden = chips.length < 2;
      strip.replaceChildren(
        ...chips.map((chip) => {
          const button = document.createElement('button');
          button.type = 'button';
          button.className = 'number-digit';
          button.dataset.testid = 'digit';
          button.dataset.index = String(chip.index);
          button.setAttribute('aria-pressed', String(chip.selected));
          button.setAttribute('aria-label', chip.label);
          button.tabIndex = chip.selected ? 0 : -1;
          button.classList.toggle('unsure', chip.unsure);
          button.classList.toggle('adapted', chip.adapted);
          const digit = document.createElement('span');
          digit.className = 'number-digit-value';
          digit.textContent = String(chip.digit);
          const seen = document.createElement('canvas');
          seen.width = 28;
          seen.height = 28;
          seen.className = 'number-digit-input';
          seen.dataset.testid = 'digit-input';
          drawInput(seen, chip.input);
          const confidence = document.createElement('span');
          confidence.className = 'number-digit-confidence';
          confidence.dataset.testid = 'digit-confidence';
          confidence.textContent = chip.confidence;
          button.append(digit, seen, confidence);
          return button;
        }),
      );
      overlay.replaceChildren(
        ...chips.map((chip) => {
          const box = document.createElement('div');
          box.className = 'digit-outline';
          box.dataset.testid = 'digit-box';
          box.dataset.index = String(chip.index);
          box.classList.toggle('selected', chip.selected && chips.length > 1);
          box.classList.toggle('unsure', chip.unsure);
          Object.assign(box.style, {
            left: `${chip.box.left}%`,
            top: `${chip.box.top}%`,
            width: `${chip.box.width}%`,
            height: `${chip.box.height}%`,
          });
          return box;
        }),
      );
    },
  };
}
