/**
 * The page: wires the pad (or a photo read in its place), the recognition (on the server or
 * in this browser), the settings and the results view together. See design.md, "The web page".
 */
import './styles.css';
import { ApiError, readOnServer, ServerUnreachableError } from './api-client.ts';
import { DrawingPad } from './pad.ts';
import { ResultsView, type Provenance } from './results-view.ts';
import {
  describeReading,
  mountNumberView,
  NO_NUMBER,
  readsAgain,
  selectDigit,
  selectedDigit,
  showReading,
  type NumberState,
} from './number-view.ts';
import {
  BACKENDS,
  backendRequestFrom,
  wantsWasmThreads,
  worthRemembering,
  type BackendTimes,
} from './backend-choice.ts';
import { rememberChoice, rememberedChoice } from './backend-memory.ts';
import { engineName } from './engine-name.ts';
import { millis } from './format.ts';
import type { ModelUrls } from './in-browser.ts';
import { RecognitionWorker } from './recognition-client.ts';
import type { Photo } from './photo.ts';
import { listenForPhotos } from './photo-input.ts';
import { mountPhotoView } from './photo-view.ts';
import { browserCorrections, mountCorrections, serverCorrections, userId } from './corrections.ts';
import { LocalAdaptation } from './local-adaptation.ts';
import { PhaseClock } from './prediction-phases.ts';
import type { Reading } from '../recognizer/answers.ts';
import type { GrayBitmap } from '../core/preprocess.ts';
import { InputError } from '../core/errors.ts';
import type { Ensemble } from '../core/vote.ts';

type Mode = 'server' | 'browser';

/** How long after the pen lifts the drawing is recognised by itself. */
const AUTO_PREDICT_MS = 350;
/** The server page loads the in-browser model as a fallback this long after it opened. */
const PRELOAD_AFTER_MS = 1500;
const modelUrl = (folder: string) => new URL(`models/${folder}/model.json`, document.baseURI).href;
const MODEL_URLS: ModelUrls = {
  digit: modelUrl('mnist-cnn'),
  line: modelUrl('line-cnn'),
  paperLine: modelUrl('line-paper'),
};
/** `?backend=webgl|wasm|cpu|measure` picks the in-browser model's backend (backend-choice.ts). */
const BACKEND_REQUEST = backendRequestFrom(location.search);

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
}

const padCanvas = byId<HTMLCanvasElement>('pad');
const padFrame = padCanvas.parentElement!;
const padBoxes = byId('digit-boxes');
const undoButton = byId<HTMLButtonElement>('undo');
const clearButton = byId<HTMLButtonElement>('clear');
const predictButton = byId<HTMLButtonElement>('predict');
const message = byId('message');
const messageText = byId('message-text');
const useBrowserButton = byId<HTMLButtonElement>('use-browser');
const modeChoice = byId<HTMLFieldSetElement>('mode-choice');
const status = byId('status');
const results = new ResultsView();
// Corrections: the server's on the server page, this browser's in the static build.
const user = userId();
const correctionsBackend = __STATIC_SITE__ ? browserCorrections() : serverCorrections(user);
const localAdaptation = new LocalAdaptation(correctionsBackend);
const corrections = mountCorrections(byId('result-panel'), {
  backend: correctionsBackend,
  onChange: () => {
    localAdaptation.invalidate();
    if (hasSomethingToRead()) void predict();
  },
});
const numberView = mountNumberView({ strip: byId('number-digits'), overlay: padBoxes }, (index) =>
  pick(index),
);
const photoView = mountPhotoView({
  view: byId('photo-view'),
  stage: byId('photo-stage'),
  overlay: byId('photo-boxes'),
  caption: byId('photo-caption'),
});
/** The photo shown and read in place of the pad (whose drawing is kept under it), if any. */
let photo: Photo | null = null;
/** Counts the photos asked for: a file that opens after a newer one was given is dropped. */
let photoRequest = 0;
/** The number shown, its picked digit, and where its answer came from. */
let number: NumberState = NO_NUMBER;
let shown: { from: Provenance; strokes: number; drawing: number } | null = null;
/** Counts the drawing's changes: an answer to an unchanged drawing keeps the picked digit. */
let drawing = 0;
/** The server did not answer the last time it was asked (the browser's model answered). */
let serverAway = false;

let mode: Mode = __STATIC_SITE__ ? 'browser' : 'server';
let ensemble: Ensemble = 'vote';
let autoTimer: ReturnType<typeof setTimeout> | undefined;
/** Identifies the latest prediction: an older answer arriving late is dropped. */
let sequence = 0;
let firstResultMarked = false;
let localModel: Promise<RecognitionWorker> | null = null;
let local: { state: 'none' | 'loading' | 'failed' } | { state: 'ready'; model: RecognitionWorker } =
  {
    state: 'none',
  };

const pad = new DrawingPad(padCanvas, {
  onStrokeStart: () => {
    clearTimeout(autoTimer);
    // The in-browser model loads as the first stroke begins, if it is needed and not loading
    // yet: fetched and compiled while the drawing is made, never only after Predict.
    if (!localModel && (mode === 'browser' || serverAway))
      ensureLocalModel().catch(() => undefined);
    numberView.hideBoxes();
    hideMessage();
    updateControls();
  },
  onStrokeEnd: () => {
    drawing++;
    updateControls();
    schedulePrediction();
  },
  onErase: () => {
    drawing++;
    numberView.hideBoxes();
    updateControls();
    hideMessage();
    if (pad.isEmpty) {
      clearTimeout(autoTimer);
      sequence++;
      clearResults();
      results.announce('The pad is clear.');
    } else {
      schedulePrediction();
    }
  },
});

/** What is read: the pad's drawing, or the photo shown in its place. */
interface Source {
  readonly what: 'drawing' | 'photo';
  readonly width: number;
  readonly height: number;
  readonly strokes: number;
  image(): string;
  gray(): GrayBitmap;
}

function currentSource(): Source {
  if (photo) {
    const { canvas } = photo;
    return {
      what: 'photo',
      width: canvas.width,
      height: canvas.height,
      strokes: 0,
      image: photo.toDataUrl,
      gray: photo.toGrayBitmap,
    };
  }
  return {
    what: 'drawing',
    width: padCanvas.width,
    height: padCanvas.height,
    strokes: pad.strokeCount,
    image: () => pad.toPngDataUrl(),
    gray: () => pad.toGrayBitmap(),
  };
}

function hasSomethingToRead(): boolean {
  return photo !== null || !pad.isEmpty;
}

function updateControls(): void {
  padFrame.classList.toggle('has-ink', !pad.isEmpty);
  // While a photo is shown, Clear takes it away (back to the pad); Undo has no stroke to undo.
  undoButton.disabled = pad.isEmpty || photo !== null;
  clearButton.disabled = !hasSomethingToRead();
  // A button that disables itself under the keyboard's focus would drop it to the page.
  const focused = [undoButton, clearButton].find((b) => b === document.activeElement);
  if (focused?.disabled) predictButton.focus();
}

const NOT_A_NUMBER = "That doesn't look like a number.";

function showMessage(text: string, kind: 'info' | 'error', offerBrowser = false): void {
  messageText.textContent = text;
  message.dataset.kind = kind;
  useBrowserButton.hidden = !offerBrowser;
  message.hidden = false;
}

function hideMessage(): void {
  message.hidden = true;
  messageText.textContent = '';
  useBrowserButton.hidden = true;
}

function setStatus(text: string, state: 'idle' | 'loading' | 'ready' | 'error'): void {
  status.textContent = text;
  status.dataset.state = state;
}

function schedulePrediction(): void {
  clearTimeout(autoTimer);
  autoTimer = setTimeout(() => void predict(), AUTO_PREDICT_MS);
}

/**
 * Loads the in-browser model once, in its own worker (tfjs is downloaded only when first
 * needed, by the worker): the page goes on drawing while it loads and while it reads.
 */
function ensureLocalModel(): Promise<RecognitionWorker> {
  if (!localModel) {
    local = { state: 'loading' };
    describeMode();
    localModel = RecognitionWorker.start({
      urls: MODEL_URLS,
      backend: BACKEND_REQUEST,
      remembered: rememberedChoice(),
      wasmThreads: wantsWasmThreads(crossOriginIsolated, navigator.hardwareConcurrency || 1),
    }).then(
      (model) => {
        const { backend, threads, choice } = model.model;
        if (worthRemembering(BACKEND_REQUEST, choice)) rememberChoice(choice);
        // The backend and how it was chosen, for bench:web and the browser tests.
        performance.mark('digits:model-ready', { detail: { backend, threads, choice } });
        local = { state: 'ready', model };
        describeMode();
        return model;
      },
      (err: unknown) => {
        localModel = null;
        local = { state: 'failed' };
        describeMode();
        throw err;
      },
    );
  }
  return localModel;
}

/** The status line: where recognition runs and how the in-browser model is doing. */
function describeMode(): void {
  if (mode === 'server' && serverAway) {
    setStatus(
      local.state === 'failed'
        ? 'The server cannot be reached, and the model could not be loaded in this browser.'
        : 'The server cannot be reached: drawings are read in this browser until it answers again.',
      'error',
    );
    return;
  }
  if (mode === 'server') {
    const fallback =
      local.state === 'ready'
        ? ' The in-browser model is standing by.'
        : local.state === 'loading'
          ? ' Loading the in-browser model as a standby…'
          : '';
    setStatus(`Recognition runs on the server.${fallback}`, 'ready');
    return;
  }
  if (local.state === 'loading') {
    setStatus('Loading the model into this browser…', 'loading');
  } else if (local.state === 'failed') {
    setStatus('The model could not be loaded in this browser.', 'error');
  } else if (local.state === 'ready') {
    const { backend, threads, loadMs, choice } = local.model.model;
    const engine = engineName(backend, threads);
    setStatus(
      `Model ready in this browser (${engine}, loaded in ${Math.round(loadMs)} ms).` +
        (choice.how === 'measured' ? ` ${describeTimes(choice.times)}` : '') +
        (__STATIC_SITE__ ? ' Nothing you draw leaves this page.' : ''),
      'ready',
    );
  }
}

/** What the backend measurement found: "Per reading: WebGL 270 ms, WebAssembly 8 ms." */
function describeTimes(times: BackendTimes): string {
  const each = BACKENDS.flatMap((b) => {
    const ms = times[b];
    return ms === undefined ? [] : [`${engineName(b)} ${millis(ms)}`];
  });
  return `Per reading: ${each.join(', ')}.`;
}

function setMode(next: Mode): void {
  mode = next;
  byId<HTMLInputElement>(`mode-${next}`).checked = true;
  if (next === 'browser') ensureLocalModel().catch(() => undefined);
  describeMode();
}

/** Reads the pad or the photo: the number on it (one digit is a number of one digit). */
async function recognise(
  where: Mode,
  source: Source,
  clock: PhaseClock,
): Promise<{ reading: Reading; from: Provenance }> {
  if (where === 'server') {
    const image = source.image();
    clock.lap('capture');
    const { reading, roundTripMs } = await readOnServer(image, ensemble, user);
    clock.skip();
    clock.add('server', reading.ms);
    clock.add('request', roundTripMs - reading.ms);
    return { reading, from: { where: 'server', roundTripMs } };
  }
  const gray = source.gray();
  clock.lap('capture');
  const model = await ensureLocalModel();
  clock.lap('modelWait');
  const { reading: plain, preprocessMs, inferenceMs } = await model.read(gray, ensemble);
  clock.lap('transfer');
  clock.add('transfer', -(preprocessMs + inferenceMs));
  clock.add('preprocess', preprocessMs);
  clock.add('inference', inferenceMs);
  // Each digit adapts here to the user's corrections: this browser's in the static build, the
  // server's on the server page (while it answers), so both modes know what the user taught.
  const reading = await localAdaptation.adaptReading(model, plain);
  clock.lap('adaptation');
  return { reading, from: { where: 'browser', backend: model.backend } };
}

/** Shows the number's picked digit in the results view, and the number around it. */
function showNumber(announce: boolean, again = false): void {
  const digit = selectedDigit(number);
  if (!digit || !number.reading || !shown) return;
  const many = number.reading.digits.length > 1;
  results.show(digit, shown.from, shown.strokes, {
    doubt: number.reading.reason === 'not_a_number' ? NOT_A_NUMBER : undefined,
    text: number.reading.text,
    label: many ? `Digit ${number.selected + 1} of ${number.reading.digits.length}` : undefined,
    ms: number.reading.ms,
    announcement: announce ? describeReading(number) : '',
  });
  numberView.render(number);
  // A correction is for the digit picked: the whole drawing's only one for a single digit.
  corrections.show(digit, again);
}

function pick(index: number): void {
  number = selectDigit(number, index);
  showNumber(false);
}

function clearResults(): void {
  number = NO_NUMBER;
  shown = null;
  numberView.render(number);
  results.clear();
  corrections.show(null);
}

async function predict(): Promise<void> {
  clearTimeout(autoTimer);
  if (!photo && pad.isDrawing) return; // the stroke's end schedules the prediction
  const id = ++sequence;
  if (!hasSomethingToRead()) {
    clearResults();
    showMessage('The pad is empty: draw a digit or a number first.', 'info');
    return;
  }
  const source = currentSource();
  const clock = new PhaseClock();
  results.setBusy(true);
  const version = drawing;
  try {
    const { reading, from, fellBack } = await recogniseOrFallBack(source, clock);
    clock.skip();
    if (id !== sequence) return;
    if (fellBack) {
      showMessage(
        'The server cannot be reached: this answer comes from the model in your browser.',
        'info',
      );
    } else {
      hideMessage();
    }
    if (reading.digits.length === 0) {
      // Nothing on the pad (or the photo) looks like a digit: no number to show.
      clearResults();
      showMessage(NOT_A_NUMBER, 'info');
      return;
    }
    // The same drawing answered again keeps its picked digit (if read as as many digits).
    const previous = shown?.drawing === version ? number : undefined;
    number = showReading(reading, source.width, source.height, previous);
    shown = { from, strokes: source.strokes, drawing: version };
    showNumber(true, readsAgain(previous, reading));
    clock.lap('render');
    // For measurements (test/e2e/measure.ts): each prediction's time and its phases, and
    // the first result.
    performance.measure(`digits:prediction:${from.where}`, {
      start: clock.start,
      detail: clock.phases,
    });
    if (!firstResultMarked) {
      firstResultMarked = true;
      performance.mark('digits:first-result');
    }
  } catch (err) {
    if (id !== sequence) return;
    results.setBusy(false);
    explain(err, source.what);
  }
}

/**
 * recognise() where the user chose; a server that cannot be reached is answered for by the
 * model in this browser (loaded as a standby), as design.md asks, and asked again next time.
 */
async function recogniseOrFallBack(
  source: Source,
  clock: PhaseClock,
): Promise<Awaited<ReturnType<typeof recognise>> & { fellBack: boolean }> {
  try {
    const answer = await recognise(mode, source, clock);
    if (mode === 'server' && serverAway) {
      serverAway = false;
      describeMode();
    }
    return { ...answer, fellBack: false };
  } catch (err) {
    if (mode !== 'server' || !(err instanceof ServerUnreachableError)) throw err;
    serverAway = true;
    describeMode();
    try {
      return { ...(await recognise('browser', source, clock)), fellBack: true };
    } catch {
      throw err; // the browser's model could not answer either: say why the server did not
    }
  }
}

function explain(err: unknown, what: Source['what']): void {
  // No ink: the server's answer, or the in-browser recognizer's (a blank photo).
  if ((err instanceof ApiError || err instanceof InputError) && err.code === 'empty_image') {
    clearResults();
    showMessage(
      what === 'photo'
        ? 'No writing was found in the photo.'
        : 'No ink was found on the pad: draw a digit first.',
      'info',
    );
  } else if (err instanceof ApiError) {
    if (err.code === 'rate_limited') {
      showMessage('Too many requests at once: wait a moment, then press Predict.', 'error');
    } else if (err.status >= 500) {
      showMessage(`The server could not recognise the ${what}: ${err.message}`, 'error', true);
    } else {
      showMessage(`The server refused the ${what}: ${err.message}`, 'error');
    }
  } else if (err instanceof ServerUnreachableError) {
    // The in-browser model is offered unless it has just failed to load.
    showMessage(err.message, 'error', local.state !== 'failed');
  } else {
    const detail = err instanceof Error ? err.message : String(err);
    showMessage(`Recognition failed: ${detail}`, 'error');
  }
  results.announce(messageText.textContent ?? '');
}

/**
 * Opens an image file and reads it in place of the pad. A file that cannot be opened says
 * why and changes nothing: the drawing, or the photo shown, and its answer stay.
 */
async function readPhotoFile(file: File): Promise<void> {
  const request = ++photoRequest;
  const name = file.name || 'the image';
  showMessage(`Opening ${name}…`, 'info');
  let opened: Photo;
  try {
    const { openPhoto } = await import('./photo.ts');
    opened = await openPhoto(file, file.name);
  } catch (err) {
    if (request !== photoRequest) return;
    const detail = err instanceof Error ? err.message : String(err);
    // openPhoto's own errors are meant for the person; anything else is explained around it.
    showMessage(
      err instanceof Error && err.name === 'PhotoError'
        ? detail
        : `${name} could not be opened: ${detail}`,
      'error',
    );
    results.announce(messageText.textContent ?? '');
    return;
  }
  if (request !== photoRequest) return;
  showPhoto(opened);
}

function showPhoto(next: Photo): void {
  clearTimeout(autoTimer);
  photo = next;
  drawing++;
  padFrame.hidden = true;
  photoView.show(next);
  numberView.drawBoxesOn(photoView.overlay);
  hideMessage();
  updateControls();
  void predict();
}

/** Back to the pad, whose drawing was kept under the photo (and is read again). */
function closePhoto(): void {
  if (!photo) return;
  photo = null;
  photoRequest++;
  drawing++;
  sequence++; // the photo's answer, if still on its way, is not the pad's
  photoView.hide();
  padFrame.hidden = false;
  numberView.drawBoxesOn(padBoxes);
  hideMessage();
  updateControls();
  if (pad.isEmpty) {
    clearResults();
    results.announce('Back to the pad, which is clear.');
  } else {
    void predict();
  }
}

/** Clear: a photo shown goes away first (back to the drawing), then the drawing. */
function clearShown(): void {
  if (photo) closePhoto();
  else pad.clear();
}

// Controls
predictButton.addEventListener('click', () => void predict());
undoButton.addEventListener('click', () => {
  if (!photo) pad.undo();
});
clearButton.addEventListener('click', clearShown);
useBrowserButton.addEventListener('click', () => {
  hideMessage();
  setMode('browser');
  if (hasSomethingToRead()) void predict();
});
listenForPhotos({
  input: byId<HTMLInputElement>('upload'),
  dropZone: byId('pad-card'),
  onFile: (file) => void readPhotoFile(file),
});
for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="mode"]')) {
  radio.addEventListener('change', () => {
    if (!radio.checked) return;
    hideMessage();
    setMode(radio.value as Mode);
    if (hasSomethingToRead()) void predict();
  });
}
for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="ensemble"]')) {
  radio.addEventListener('change', () => {
    if (!radio.checked) return;
    ensemble = radio.value as Ensemble;
    if (hasSomethingToRead()) void predict();
  });
}

document.addEventListener('keydown', (e) => {
  const target = e.target as HTMLElement | null;
  const typing =
    target?.isContentEditable ||
    target instanceof HTMLTextAreaElement ||
    (target instanceof HTMLInputElement &&
      !['radio', 'checkbox', 'button', 'file'].includes(target.type));
  if (typing) return;
  if (e.key === 'Escape' && !e.ctrlKey && !e.metaKey && !e.altKey) {
    e.preventDefault();
    clearShown();
  } else if (
    (e.key === 'z' || e.key === 'Z') &&
    (e.ctrlKey || e.metaKey) &&
    !e.shiftKey &&
    !e.altKey
  ) {
    e.preventDefault();
    if (!photo) pad.undo();
  }
});

// Start
if (__STATIC_SITE__) {
  // The static site has no server: recognition always runs here.
  modeChoice.hidden = true;
  byId<HTMLInputElement>('mode-server').disabled = true;
}
document.documentElement.dataset.site = __STATIC_SITE__ ? 'static' : 'server';
updateControls();
setMode(mode);
if (mode === 'server') preloadLocalModel();

/**
 * On the server page, the in-browser model is loaded in the background once the page is
 * idle, so switching to it works at once, even when the server has gone away meanwhile.
 * Skipped when the visitor asked to save data.
 */
function preloadLocalModel(): void {
  const connection = (navigator as Navigator & { connection?: { saveData?: boolean } }).connection;
  if (connection?.saveData) return;
  const start = () => {
    if (!localModel) ensureLocalModel().catch(() => undefined);
  };
  setTimeout(() => {
    if ('requestIdleCallback' in window) requestIdleCallback(start, { timeout: 3000 });
    else start();
  }, PRELOAD_AFTER_MS);
}
