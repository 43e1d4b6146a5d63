/**
 * The page's state without a browser (src/web/page-state.ts): what it shows for an answer,
 * an error, a number, a photo and a choice of mode, each step driven as page.ts drives it.
 */
import { millis } from '../../src/web/format.ts';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.ts';
import type { Reading } from '../../src/recognizer/answers.ts';
import { ApiError, ServerUnreachableError } from '../../src/web/api-client.ts';
import { nextCorrectionView, NO_CORRECTION_VIEW } from '../../src/web/corrections.ts';
import * as page from '../../src/web/page-state.ts';
import type { PageState } from '../../src/web/page-state.ts';
import type { Photo } from '../../src/web/photo.ts';
import { describeVotes, type Provenance } from '../../src/web/results-view.ts';
import { digit, reading } from './digit-readings.ts';

const SERVER: Provenance = { where: 'server', roundTripMs: 20 };
const SEVEN = reading([digit(7, 0.9, 0)]);

/** `answer` arriving as the answer of reading `id`, as page.ts hands it over. */
function answerOf(
  state: PageState,
  id: number,
  answer: Reading,
  from = SERVER,
  fellBack = false,
): PageState {
  // The pad's drawing of 3 strokes, 800x400 pixels; a photo of 1600x600.
  const size = state.photo
    ? { width: 1600, height: 600, strokes: 0 }
    : { width: 800, height: 400, strokes: 3 };
  const { drawingVersion } = state;
  return page.readingAnswered(state, id, {
    reading: answer,
    from,
    fellBack,
    drawingVersion,
    ...size,
  });
}

/** Predict pressed on what the state shows, and `answer` read for it. */
function read(state: PageState, answer: Reading, from = SERVER, fellBack = false): PageState {
  const asked = page.readingAsked(state, false);
  expect(asked.busy).toBe(true);
  return answerOf(asked, asked.latestReading, answer, from, fellBack);
}

/** Predict pressed on what the state shows, and the reading failing with `err`. */
function fail(state: PageState, err: Error, what: page.Readable = 'drawing'): PageState {
  const asked = page.readingAsked(state, false);
  return page.readingFailed(asked, asked.latestReading, err, what);
}

/** A number drawn on the pad and read on the server: 2, a doubtful 0, 4. */
function numberShown(): PageState {
  const drawn = page.strokeStarted(page.initialState('server'));
  return read(drawn, reading([digit(2, 0.99, 0), digit(0, 0.55, 200), digit(4, 0.97, 400)]));
}

/** A photo as the page holds one; the state only keeps it (no DOM in unit tests). */
function photo(name: string): Photo {
  return {
    name,
    canvas: { width: 1600, height: 600 } as HTMLCanvasElement,
    original: { width: 3200, height: 1200 },
    toDataUrl: () => 'data:image/jpeg;base64,',
    toGrayBitmap: () => ({ width: 1600, height: 600, data: new Uint8Array(1600 * 600) }),
  };
}

describe('the page state', () => {
  it('shows a number read: its text, its least sure digit picked, its boxes on the pad', () => {
    const state = numberShown();
    expect(state.busy).toBe(false);
    expect(state.message).toBeNull();
    expect(state.answer?.number.selected).toBe(1);
    expect(page.boxesOn(state)).toBe('pad');
    const result = page.resultOf(state.answer);
    expect(result?.digit.digit).toBe(0);
    expect(result?.strokes).toBe(3);
    expect(result?.text).toMatchObject({
      result: '204',
      confidence: 'Digit 2 of 3: Not sure it is a 0. Best guess 0, 55% confidence.',
      unsure: true,
      reason: 'ambiguous',
      timing: '5.0 ms on the server · 20 ms round trip',
    });
    expect(state.announcement?.text).toBe('Read 204: 3 digits, not sure of 1 of them.');
    // Undo and Clear work on a drawing.
    expect(page.controlsOf(state, false)).toEqual({
      padHasInk: true,
      undoDisabled: false,
      clearDisabled: false,
    });
  });

  it('drops an answer that arrives after a newer reading was asked', () => {
    const first = page.readingAsked(numberShown(), false);
    const second = page.readingAsked(first, false);
    expect(answerOf(second, first.latestReading, SEVEN)).toBe(second);
    expect(page.readingFailed(second, first.latestReading, new Error('gone'), 'drawing')).toBe(
      second,
    );
  });

  it("shows a picked digit's own answer, and tells screen readers nothing new", () => {
    const state = numberShown();
    const picked = page.digitPicked(state, 0);
    expect(picked.answer?.number.selected).toBe(0);
    expect(picked.answer?.again).toBe(false);
    expect(page.resultOf(picked.answer)?.text.confidence).toBe('Digit 1 of 3: 99% confidence');
    expect(page.resultOf(picked.answer)?.text.result).toBe('204');
    expect(picked.announcement).toBe(state.announcement);
    // The digit already picked, or no answer at all: nothing changes.
    expect(page.digitPicked(state, 1)).toBe(state);
    expect(page.digitPicked(page.initialState('server'), 0).answer).toBeNull();
  });

  it('keeps the drawing and its answer when a reading fails, and says why', () => {
    const state = numberShown();
    const failed = fail(state, new ApiError(500, 'internal_error', 'out of memory'));
    expect(failed.answer).toBe(state.answer);
    expect(failed.busy).toBe(false);
    expect(page.boxesOn(failed)).toBe('pad');
    expect(failed.message).toEqual({
      text: 'The server could not recognise the drawing: out of memory',
      kind: 'error',
      offerBrowser: true,
    });
    expect(failed.announcement?.text).toBe(failed.message?.text);
    expect(fail(state, new ApiError(429, 'rate_limited', 'slow down')).message?.text).toBe(
      'Too many requests at once: wait a moment, then press Predict.',
    );
    // No server, and no model in this browser either: nothing else to offer.
    const noModel = page.browserModelChanged(state, { state: 'failed' });
    const away = fail(noModel, new ServerUnreachableError());
    expect(away.message).toMatchObject({ kind: 'error', offerBrowser: false });
    expect(away.answer).toBe(state.answer);
    // The next stroke takes the message away, and the boxes (the drawing changed under them).
    const drawing = page.strokeStarted(away);
    expect(drawing.message).toBeNull();
    expect(drawing.answer).toBe(state.answer);
    expect(page.boxesOn(drawing)).toBeNull();
  });

  it('takes the answer away when there is no ink, or nothing read as a digit', () => {
    const state = numberShown();
    const blank = fail(state, new InputError('empty_image', 'no ink'));
    expect(blank.answer).toBeNull();
    expect(blank.message).toEqual({
      text: 'No ink was found on the pad: draw a digit first.',
      kind: 'info',
      offerBrowser: false,
    });
    const scribble = read(state, reading([]));
    expect(scribble.answer).toBeNull();
    expect(scribble.message?.text).toBe("That doesn't look like a number.");
  });

  it('empties with the pad, dropping a reading still on its way', () => {
    const state = page.readingAsked(numberShown(), false);
    const cleared = page.strokesErased(state, true);
    expect(cleared.answer).toBeNull();
    expect(cleared.busy).toBe(false);
    expect(cleared.announcement?.text).toBe('The pad is clear.');
    expect(page.controlsOf(cleared, true)).toEqual({
      padHasInk: false,
      undoDisabled: true,
      clearDisabled: true,
    });
    expect(answerOf(cleared, state.latestReading, SEVEN)).toBe(cleared);
    // Predict on the empty pad: a message, and nothing sent.
    const empty = page.readingAsked(cleared, true);
    expect(empty.busy).toBe(false);
    expect(empty.message?.text).toBe('The pad is empty: draw a digit or a number first.');
    // A stroke undone, the pad not empty: the answer stays until the drawing is read again.
    const undone = page.strokesErased(numberShown(), false);
    expect(undone.answer).not.toBeNull();
    expect(page.boxesOn(undone)).toBeNull();
  });

  it('keeps the corrected digit picked when the same drawing is read again', () => {
    // The 2 of "204" is picked and corrected to a 7; the drawing is read again with it.
    const picked = page.digitPicked(numberShown(), 0);
    const where = 'on the server';
    let corrections = nextCorrectionView(
      NO_CORRECTION_VIEW,
      { type: 'answer', digit: 2, again: picked.answer!.again },
      where,
    );
    corrections = nextCorrectionView(corrections, { type: 'sent' }, where);
    corrections = nextCorrectionView(corrections, { type: 'stored', label: 7 }, where);
    const corrected = reading([digit(7, 0.9, 0), digit(0, 0.55, 200), digit(4, 0.97, 400)]);
    const again = read(picked, corrected);
    expect(again.answer?.again).toBe(true);
    expect(again.answer?.number.selected).toBe(0);
    const result = page.resultOf(again.answer)!;
    expect(result.text.result).toBe('704');
    corrections = nextCorrectionView(
      corrections,
      { type: 'answer', digit: result.digit.digit, again: true },
      where,
    );
    expect(corrections.status).toBe(
      'Learned: drawings like this one are your 7s (kept on the server).',
    );
    // Another drawing is a new answer: its least sure digit is picked.
    const next = read(page.strokeStarted(again), corrected);
    expect(next.answer?.again).toBe(false);
    expect(next.answer?.number.selected).toBe(1);
  });

  it('switches mode, and says where recognition runs', () => {
    const server = page.initialState('server');
    expect(server.mode).toBe('server');
    expect(page.statusOf(server)).toEqual({
      text: 'Recognition runs on the server.',
      state: 'ready',
    });
    const standby = page.browserModelChanged(server, { state: 'loading' });
    expect(page.statusOf(standby).text).toBe(
      'Recognition runs on the server. Loading the in-browser model as a standby…',
    );
    const refused = fail(standby, new ApiError(503, 'unavailable', 'busy'));
    const browser = page.modeChosen(refused, 'browser');
    expect(browser.mode).toBe('browser');
    expect(browser.message).toBeNull();
    expect(page.statusOf(browser)).toEqual({
      text: 'Loading the model into this browser…',
      state: 'loading',
    });
    const ready = page.browserModelChanged(browser, {
      state: 'ready',
      backend: 'wasm',
      threads: 1,
      loadMs: 812.4,
      choice: { backend: 'wasm', how: 'only', key: 'k', times: {} },
    });
    expect(page.statusOf(ready)).toEqual({
      text: 'Model ready in this browser (WebAssembly, loaded in 812 ms).',
      state: 'ready',
    });
    const answered = read(ready, reading([digit(5, 0.97, 0)]), {
      where: 'browser',
      backend: 'wasm',
    });
    expect(page.resultOf(answered.answer)?.text.timing).toBe(
      '5.0 ms in your browser (WebAssembly)',
    );
    expect(answered.announcement?.text).toBe('Recognised 5, 97% confidence.');

    const site = page.browserModelChanged(page.initialState('static'), {
      state: 'ready',
      backend: 'cpu',
      threads: null,
      loadMs: 1500,
      choice: { backend: 'cpu', how: 'asked', key: 'k', times: {} },
    });
    const measured = page.browserModelChanged(browser, {
      state: 'ready',
      backend: 'wasm',
      threads: 2,
      loadMs: 640,
      choice: { backend: 'wasm', how: 'measured', key: 'k', times: { webgl: 270, wasm: 8 } },
    });
    expect(page.statusOf(measured).text).toBe(
      'Model ready in this browser (WebAssembly, 2 threads, loaded in 640 ms). ' +
        `Per reading: WebGL ${millis(270)}, WebAssembly ${millis(8)}.`,
    );
    expect(site.mode).toBe('browser');
    expect(page.statusOf(site).text).toBe(
      'Model ready in this browser (JavaScript, loaded in 1500 ms). Nothing you draw leaves this page.',
    );
  });

  it('says when the server is away and the browser answered in its place', () => {
    const state = page.browserModelChanged(page.initialState('server'), {
      state: 'ready',
      backend: 'wasm',
      threads: 1,
      loadMs: 900,
      choice: { backend: 'wasm', how: 'remembered', key: 'k', times: {} },
    });
    const away = page.serverReached(state, false);
    expect(page.statusOf(away)).toEqual({
      text: 'The server cannot be reached: drawings are read in this browser until it answers again.',
      state: 'error',
    });
    expect(page.serverReached(away, false)).toBe(away);
    const answered = read(away, reading([digit(4, 0.95, 0)]), { where: 'browser' }, true);
    expect(answered.message).toEqual({
      text: 'The server cannot be reached: this answer comes from the model in your browser.',
      kind: 'info',
      offerBrowser: false,
    });
    expect(answered.mode).toBe('server');
    expect(page.statusOf(page.serverReached(answered, true)).text).toMatch(
      /^Recognition runs on the server/,
    );
  });

  it('reads a photo in place of the pad, and goes back to the drawing', () => {
    const drawn = numberShown();
    const opening = page.photoFileAsked(drawn, 'check.jpg');
    expect(opening.message?.text).toBe('Opening check.jpg…');
    // A file that cannot be opened changes nothing but the message.
    const bad = new Error('check.jpg is not an image the browser can open.');
    bad.name = 'PhotoError';
    const refused = page.photoFileFailed(opening, opening.latestPhotoFile, bad, 'check.jpg');
    expect(refused.message).toMatchObject({ text: bad.message, kind: 'error' });
    expect(refused.answer).toBe(drawn.answer);
    expect(refused.photo).toBeNull();
    const cut = page.photoFileFailed(opening, opening.latestPhotoFile, new Error('eof'), 'a.png');
    expect(cut.message?.text).toBe('a.png could not be opened: eof');
    // A file that opens after a newer one was given is dropped.
    const newer = page.photoFileAsked(opening, 'other.png');
    expect(page.photoOpened(newer, opening.latestPhotoFile, photo('check.jpg'))).toBe(newer);

    const shown = page.photoOpened(newer, newer.latestPhotoFile, photo('other.png'));
    expect(shown.photo?.name).toBe('other.png');
    expect(shown.message).toBeNull();
    // The pad's boxes leave with it; Undo has no stroke of the photo to undo, Clear closes it.
    expect(page.boxesOn(shown)).toBeNull();
    expect(page.controlsOf(shown, true)).toMatchObject({
      undoDisabled: true,
      clearDisabled: false,
    });
    const answered = read(shown, reading([digit(2, 0.99, 100), digit(0, 0.98, 600)]));
    expect(page.boxesOn(answered)).toBe('photo');
    expect(answered.answer?.number).toMatchObject({ width: 1600, height: 600 });
    const blank = fail(answered, new ApiError(422, 'empty_image', 'no ink'), 'photo');
    expect(blank.message?.text).toBe('No writing was found in the photo.');
    expect(blank.photo).toBe(answered.photo);

    // Back to the pad: its drawing is read again; an empty pad has nothing to show.
    const back = page.photoClosed(answered, false);
    expect(back.photo).toBeNull();
    expect(back.latestReading).toBe(answered.latestReading + 1);
    expect(page.boxesOn(back)).toBeNull();
    const clear = page.photoClosed(answered, true);
    expect(clear.answer).toBeNull();
    expect(clear.announcement?.text).toBe('Back to the pad, which is clear.');
    expect(page.photoClosed(clear, true)).toBe(clear);
  });

  it('says under the bars what the votes are, or why a digit has none', () => {
    expect(describeVotes(10, false, true)).toBe(
      'votes: how many of 10 copies of the drawing, slightly shifted, scaled and rotated, chose that digit.',
    );
    expect(describeVotes(10, true, true)).toMatch(/chose that digit, before your corrections\.$/);
    expect(describeVotes(1, false, false)).toBe(
      'Combining is off: the drawing alone decides, without copies.',
    );
    expect(describeVotes(1, false, true)).toBe(
      'Both readers were sure of this digit of the number at once: no copies were needed.',
    );
  });
});
