/**
 * The page's state as one value, and what the page shows for it: each thing that happens (a
 * stroke, an answer, an error, a photo, a choice of mode) is a plain function from one state
 * to the next, and what is on screen (the answer, the message, the status line, the
 * controls) is read from the state. Nothing here touches the DOM, so the rules are tested
 * without a browser (test/unit/page-state.test.ts); page.ts binds them to the page.
 */
import { BACKENDS, type BackendTimes } from './backend-choice.ts';
import { engineName } from './engine-name.ts';
import { millis } from './format.ts';
import type { LoadedModel } from './recognition-protocol.ts';
import type { Ensemble } from '../core/vote.ts';
import { InputError } from '../core/errors.ts';
import type { DigitReading, Reading } from '../recognizer/answers.ts';
import { ApiError, ServerUnreachableError } from './api-client.ts';
import {
  describeReading,
  readsAgain,
  selectDigit,
  selectedDigit,
  showReading,
  type NumberState,
} from './number-view.ts';
import type { Photo } from './photo.ts';
import { describeAnswer, type AnswerText, type Provenance } from './results-view.ts';

/** Where drawings are read: the person's choice on the server page, always here on the static site. */
export type Mode = 'server' | 'browser';

/** The page served by the API server, or the static site (no server at all). */
export type Site = 'server' | 'static';

/** The in-browser model, which loads in a worker on demand (or as the server page's standby). */
export type BrowserModel =
  | { readonly state: 'none' | 'loading' | 'failed' }
  | ({ readonly state: 'ready' } & Pick<LoadedModel, 'backend' | 'threads' | 'loadMs' | 'choice'>);

/** The line under the pad: what the person should know about what just happened. */
export interface Message {
  readonly text: string;
  readonly kind: 'info' | 'error';
  /** Offer "Recognise in this browser instead" (the server failed to read). */
  readonly offerBrowser: boolean;
}

/** A reading on screen: the number, its picked digit, and where it came from. */
export interface Answer {
  readonly number: NumberState;
  readonly from: Provenance;
  /** The strokes of the drawing read (0 for a photo); browser tests wait for their answer by it. */
  readonly strokes: number;
  /** The version of the drawing it reads (see PageState.drawingVersion). */
  readonly drawingVersion: number;
  /**
   * The same drawing read again as as many digits (after a correction, with another
   * ensemble): the picked digit stayed, and the correction controls say whether it took.
   */
  readonly again: boolean;
}

export interface PageState {
  readonly site: Site;
  readonly mode: Mode;
  readonly ensemble: Ensemble;
  readonly browserModel: BrowserModel;
  /** The server did not answer the last time it was asked (the browser's model answered). */
  readonly serverAway: boolean;
  /** The photo read in place of the pad (whose drawing is kept under it), if any. */
  readonly photo: Photo | null;
  /**
   * Counts the changes of what is read: an answer of the drawing on screen keeps the picked
   * digit, and its boxes are shown only over the drawing they were found in.
   */
  readonly drawingVersion: number;
  /** Identifies the latest reading asked for: an older answer arriving late is dropped. */
  readonly latestReading: number;
  /** Identifies the latest photo file opened: a file that opens after a newer one is dropped. */
  readonly latestPhotoFile: number;
  /** A reading is on its way: the answer shown is out of date. */
  readonly busy: boolean;
  readonly answer: Answer | null;
  readonly message: Message | null;
  /** What screen readers were last told; a new object each time, so the same words are told again. */
  readonly announcement: { readonly text: string } | null;
}

export function initialState(site: Site): PageState {
  return {
    site,
    mode: site === 'static' ? 'browser' : 'server',
    ensemble: 'vote',
    browserModel: { state: 'none' },
    serverAway: false,
    photo: null,
    drawingVersion: 0,
    latestReading: 0,
    latestPhotoFile: 0,
    busy: false,
    answer: null,
    message: null,
    announcement: null,
  };
}

export const NOT_A_NUMBER = "That doesn't look like a number.";

const info = (text: string): Message => ({ text, kind: 'info', offerBrowser: false });
const error = (text: string, offerBrowser = false): Message => ({
  text,
  kind: 'error',
  offerBrowser,
});
const said = (text: string) => ({ text });

/** What a reading reads: the pad's drawing, or the photo shown in its place. */
export type Readable = 'drawing' | 'photo';

export function somethingToRead(state: PageState, padEmpty: boolean): boolean {
  return state.photo !== null || !padEmpty;
}

/** No answer on screen, and none on its way. */
function withoutAnswer(state: PageState): PageState {
  return { ...state, answer: null, busy: false };
}

/** A stroke began on the pad: the drawing changes, and what was said of it is out of date. */
export function strokeStarted(state: PageState): PageState {
  return { ...state, drawingVersion: state.drawingVersion + 1, message: null };
}

/**
 * Strokes were erased (Undo, Clear): a pad left empty has no answer, and the reading of
 * what was on it, if still on its way, is dropped.
 */
export function strokesErased(state: PageState, padEmpty: boolean): PageState {
  const changed = strokeStarted(state);
  if (!padEmpty) return changed;
  return {
    ...withoutAnswer(changed),
    latestReading: state.latestReading + 1,
    announcement: said('The pad is clear.'),
  };
}

/** Predict (pressed, or after a stroke): a reading goes out, or the pad is empty. */
export function readingAsked(state: PageState, padEmpty: boolean): PageState {
  const asked = { ...state, latestReading: state.latestReading + 1 };
  if (!somethingToRead(state, padEmpty)) {
    return {
      ...withoutAnswer(asked),
      message: info('The pad is empty: draw a digit or a number first.'),
    };
  }
  return { ...asked, busy: true };
}

/** A reading's answer, and what it was of. */
export interface Read {
  readonly reading: Reading;
  readonly from: Provenance;
  /** The size of the image read (the pad's pixels, or the photo's): the boxes are in it. */
  readonly width: number;
  readonly height: number;
  readonly strokes: number;
  /** The drawingVersion when the reading was asked. */
  readonly drawingVersion: number;
  /** The server could not be reached: the browser's model answered in its place. */
  readonly fellBack: boolean;
}

/** The answer of reading `id` (see readingAsked) arrived. */
export function readingAnswered(state: PageState, id: number, read: Read): PageState {
  if (id !== state.latestReading) return state;
  if (read.reading.digits.length === 0) {
    // Nothing on the pad (or the photo) looks like a digit: no number to show.
    return { ...withoutAnswer(state), message: info(NOT_A_NUMBER) };
  }
  // The same drawing answered again keeps its picked digit (if read as as many digits).
  const previous =
    state.answer?.drawingVersion === read.drawingVersion ? state.answer.number : undefined;
  const answer: Answer = {
    number: showReading(read.reading, read.width, read.height, previous),
    from: read.from,
    strokes: read.strokes,
    drawingVersion: read.drawingVersion,
    again: readsAgain(previous, read.reading),
  };
  return {
    ...state,
    answer,
    busy: false,
    message: read.fellBack
      ? info('The server cannot be reached: this answer comes from the model in your browser.')
      : null,
    announcement: said(resultOf(answer)?.text.announcement ?? ''),
  };
}

/** Reading `id` failed: said why; the drawing and its answer stay, unless there is no ink. */
export function readingFailed(
  state: PageState,
  id: number,
  err: unknown,
  what: Readable,
): PageState {
  if (id !== state.latestReading) return state;
  const message = messageForError(err, what, state.browserModel.state === 'failed');
  const noInk =
    (err instanceof ApiError || err instanceof InputError) && err.code === 'empty_image';
  return {
    ...(noInk ? withoutAnswer(state) : { ...state, busy: false }),
    message,
    announcement: said(message.text),
  };
}

/** Why a reading failed, in the person's words, and what they can do. */
export function messageForError(
  err: unknown,
  what: Readable,
  browserModelFailed: boolean,
): Message {
  // No ink: the server's answer, or the in-browser recognizer's (a blank photo).
  if ((err instanceof ApiError || err instanceof InputError) && err.code === 'empty_image') {
    return info(
      what === 'photo'
        ? 'No writing was found in the photo.'
        : 'No ink was found on the pad: draw a digit first.',
    );
  }
  if (err instanceof ApiError) {
    if (err.code === 'rate_limited') {
      return error('Too many requests at once: wait a moment, then press Predict.');
    }
    if (err.status >= 500) {
      return error(`The server could not recognise the ${what}: ${err.message}`, true);
    }
    return error(`The server refused the ${what}: ${err.message}`);
  }
  // The in-browser model is offered unless it has just failed to load.
  if (err instanceof ServerUnreachableError) return error(err.message, !browserModelFailed);
  const detail = err instanceof Error ? err.message : String(err);
  return error(`Recognition failed: ${detail}`);
}

/** A digit of the number picked (a button of the strip, or the arrow keys). */
export function digitPicked(state: PageState, index: number): PageState {
  if (!state.answer) return state;
  const number = selectDigit(state.answer.number, index);
  if (number.selected === state.answer.number.selected) return state;
  // Another digit is another answer for the corrections: not the same one read again.
  return { ...state, answer: { ...state.answer, number, again: false } };
}

export function modeChosen(state: PageState, mode: Mode): PageState {
  return { ...state, mode, message: null };
}

export function ensembleChosen(state: PageState, ensemble: Ensemble): PageState {
  return { ...state, ensemble };
}

export function browserModelChanged(state: PageState, browserModel: BrowserModel): PageState {
  return { ...state, browserModel };
}

/** The server answered (`reached`), or could not be reached at all. */
export function serverReached(state: PageState, reached: boolean): PageState {
  return state.serverAway === !reached ? state : { ...state, serverAway: !reached };
}

/** A photo file is being opened (given, dropped or pasted). */
export function photoFileAsked(state: PageState, name: string): PageState {
  return {
    ...state,
    latestPhotoFile: state.latestPhotoFile + 1,
    message: info(`Opening ${name}…`),
  };
}

/**
 * Photo file `id` could not be opened: said why, and nothing else changes (the drawing, or
 * the photo shown, and its answer stay).
 */
export function photoFileFailed(
  state: PageState,
  id: number,
  err: unknown,
  name: string,
): PageState {
  if (id !== state.latestPhotoFile) return state;
  const detail = err instanceof Error ? err.message : String(err);
  // openPhoto's own errors are meant for the person; anything else is explained around it.
  const text =
    err instanceof Error && err.name === 'PhotoError'
      ? detail
      : `${name} could not be opened: ${detail}`;
  return { ...state, message: error(text), announcement: said(text) };
}

/** Photo file `id` opened: it is shown, and read, in place of the pad. */
export function photoOpened(state: PageState, id: number, photo: Photo): PageState {
  if (id !== state.latestPhotoFile) return state;
  return { ...state, photo, drawingVersion: state.drawingVersion + 1, message: null };
}

/**
 * Back to the pad, whose drawing was kept under the photo (and is read again); a file still
 * opening and the photo's reading still on its way are dropped.
 */
export function photoClosed(state: PageState, padEmpty: boolean): PageState {
  if (!state.photo) return state;
  const closed: PageState = {
    ...state,
    photo: null,
    latestPhotoFile: state.latestPhotoFile + 1,
    drawingVersion: state.drawingVersion + 1,
    latestReading: state.latestReading + 1,
    message: null,
  };
  if (!padEmpty) return closed;
  return { ...withoutAnswer(closed), announcement: said('Back to the pad, which is clear.') };
}

/** What the results view shows: the answer's picked digit, and the number around it. */
export interface Result {
  readonly digit: DigitReading;
  readonly text: AnswerText;
  readonly strokes: number;
}

export function resultOf(answer: Answer | null): Result | null {
  const reading = answer?.number.reading;
  const digit = answer && selectedDigit(answer.number);
  if (!answer || !reading || !digit) return null;
  const count = reading.digits.length;
  return {
    digit,
    strokes: answer.strokes,
    text: describeAnswer(digit, answer.from, {
      doubt: reading.reason === 'not_a_number' ? NOT_A_NUMBER : undefined,
      text: reading.text,
      label: count > 1 ? `Digit ${answer.number.selected + 1} of ${count}` : undefined,
      ms: reading.ms,
      announcement: describeReading(answer.number),
    }),
  };
}

/** Where the digits' boxes go: over the photo or the pad they were found in; none once it changed. */
export function boxesOn(state: PageState): 'pad' | 'photo' | null {
  if (state.answer?.drawingVersion !== state.drawingVersion) return null;
  return state.photo ? 'photo' : 'pad';
}

export interface Controls {
  readonly padHasInk: boolean;
  readonly undoDisabled: boolean;
  readonly clearDisabled: boolean;
}

export function controlsOf(state: PageState, padEmpty: boolean): Controls {
  return {
    padHasInk: !padEmpty,
    // While a photo is shown, Clear takes it away (back to the pad); Undo has no stroke to undo.
    undoDisabled: padEmpty || state.photo !== null,
    clearDisabled: !somethingToRead(state, padEmpty),
  };
}

export interface Status {
  readonly text: string;
  readonly state: 'idle' | 'loading' | 'ready' | 'error';
}

/** The status line: where recognition runs and how the in-browser model is doing. */
export function statusOf(state: PageState): Status {
  const { mode, serverAway, browserModel: model } = state;
  if (mode === 'server' && serverAway) {
    return {
      text:
        model.state === 'failed'
          ? 'The server cannot be reached, and the model could not be loaded in this browser.'
          : 'The server cannot be reached: drawings are read in this browser until it answers again.',
      state: 'error',
    };
  }
  if (mode === 'server') {
    const standby =
      model.state === 'ready'
        ? ' The in-browser model is standing by.'
        : model.state === 'loading'
          ? ' Loading the in-browser model as a standby…'
          : '';
    return { text: `Recognition runs on the server.${standby}`, state: 'ready' };
  }
  if (model.state === 'failed') {
    return { text: 'The model could not be loaded in this browser.', state: 'error' };
  }
  if (model.state === 'ready') {
    const engine = engineName(model.backend, model.threads);
    return {
      text:
        `Model ready in this browser (${engine}, loaded in ${Math.round(model.loadMs)} ms).` +
        (model.choice.how === 'measured' ? ` ${describeTimes(model.choice.times)}` : '') +
        (state.site === 'static' ? ' Nothing you draw leaves this page.' : ''),
      state: 'ready',
    };
  }
  // Choosing this browser starts the loading at once: 'none' is its first moment.
  return { text: 'Loading the model into this browser…', state: 'loading' };
}

/** What the backend measurement found: "Per reading: WebGL 270 ms, WebAssembly 8 ms." */
function describeTimes(times: BackendTimes): string {
  const each = BACKENDS.flatMap((b) => {
    const ms = times[b];
    return ms === undefined ? [] : [`${engineName(b)} ${millis(ms)}`];
  });
  return `Per reading: ${each.join(', ')}.`;
}
