/**
 * The page bound to the DOM: `mount()` wires the pad (or a photo read in its place), the
 * recognition (on the server or in this browser), the settings and the results view to one
 * PageState (page-state.ts). Every event gives the next state through a function of
 * page-state.ts, and `render` puts on the page what changed. See design.md, "The web page".
 */
import {
  backendRequestFrom,
  wantsWasmThreads,
  worthRemembering,
  type BackendRequest,
} from './backend-choice.ts';
import { rememberChoice, rememberedChoice } from './backend-memory.ts';
import { readOnServer, ServerUnreachableError } from './api-client.ts';
import { browserCorrections, mountCorrections, serverCorrections, userId } from './corrections.ts';
import { byId } from './dom.ts';
import type { ModelUrls } from './in-browser.ts';
import { LocalAdaptation } from './local-adaptation.ts';
import { mountNumberView, NO_NUMBER } from './number-view.ts';
import {
  boxesOn,
  browserModelChanged,
  controlsOf,
  digitPicked,
  ensembleChosen,
  initialState,
  modeChosen,
  photoClosed,
  photoFileAsked,
  photoFileFailed,
  photoOpened,
  readingAnswered,
  readingAsked,
  readingFailed,
  resultOf,
  serverReached,
  somethingToRead,
  statusOf,
  strokeStarted,
  strokesErased,
  type BrowserModel,
  type Mode,
  type PageState,
  type Readable,
  type Site,
} from './page-state.ts';
import { DrawingPad } from './pad.ts';
import type { Photo } from './photo.ts';
import { listenForPhotos } from './photo-input.ts';
import { mountPhotoView } from './photo-view.ts';
import { PhaseClock } from './prediction-phases.ts';
import { RecognitionWorker } from './recognition-client.ts';
import { ResultsView, type Provenance } from './results-view.ts';
import type { GrayBitmap } from '../core/preprocess.ts';
import type { Ensemble } from '../core/vote.ts';
import { readingMoved, type Reading } from '../recognizer/answers.ts';

/** How long after the pen lifts the drawing is recognised by itself. */
const AUTO_PREDICT_MS = 350;
/**
 * The server page loads the in-browser model as a standby once the visitor has paused (no
 * stroke, no reading) this long.
 */
const STANDBY_AFTER_PAUSE_MS = 1500;

/**
 * What is read: the pad's drawing, or the photo shown in its place. `image` and `gray` give
 * the part of it that is read, whose top-left corner is at `at` in the whole (`width` x
 * `height`, where the answer's boxes are shown).
 */
interface Source {
  readonly what: Readable;
  readonly width: number;
  readonly height: number;
  readonly strokes: number;
  readonly at: { readonly x: number; readonly y: number };
  image(): string;
  gray(): GrayBitmap;
}

/**
 * The in-browser model, started once in its own worker (tfjs is downloaded only when first
 * needed, by the worker): the page goes on drawing while it loads and while it reads. A load
 * that failed may be tried again. Its listener hears how loading goes, and on `listen` how
 * it has gone so far: the static site starts loading before the page's state exists.
 */
function browserModelLoader(urls: ModelUrls, request: BackendRequest) {
  let loading: Promise<RecognitionWorker> | null = null;
  let status: BrowserModel = { state: 'none' };
  let listener: (model: BrowserModel) => void = () => {};
  const tell = (model: BrowserModel) => {
    status = model;
    listener(model);
  };
  return {
    get started(): boolean {
      return loading !== null;
    },
    listen(onChange: (model: BrowserModel) => void): void {
      listener = onChange;
      if (status.state !== 'none') onChange(status);
    },
    load(): Promise<RecognitionWorker> {
      if (!loading) {
        tell({ state: 'loading' });
        loading = RecognitionWorker.start({
          urls,
          backend: request,
          remembered: rememberedChoice(),
          wasmThreads: wantsWasmThreads(crossOriginIsolated, navigator.hardwareConcurrency || 1),
        }).then(
          (model) => {
            const { backend, threads, loadMs, loadPhases, choice } = model.model;
            if (worthRemembering(request, choice)) rememberChoice(choice);
            // The backend, how it was chosen and where the loading went, for bench:web and the
            // browser tests.
            performance.mark('digits:model-ready', {
              detail: { backend, threads, choice, loadPhases },
            });
            tell({ state: 'ready', backend, threads, loadMs, choice });
            return model;
          },
          (err: unknown) => {
            loading = null;
            tell({ state: 'failed' });
            throw err;
          },
        );
      }
      return loading;
    },
  };
}

/** Binds the page's state to the document of `site`; call once, when the page has loaded. */
export function mount(site: Site): void {
  const modelUrl = (folder: string) =>
    new URL(`models/${folder}/model.json`, document.baseURI).href;
  const models = browserModelLoader(
    { digit: modelUrl('mnist-cnn'), line: modelUrl('line-cnn'), paperLine: modelUrl('line-paper') },
    // `?backend=webgl|wasm|cpu|measure` picks the in-browser model's backend (backend-choice.ts).
    backendRequestFrom(location.search),
  );
  // The static site reads in this browser only: its worker starts first, before the page is
  // bound, so that the model loads while the rest of the page is set up.
  if (site === 'static') models.load().catch(() => undefined);

  const padCanvas = byId<HTMLCanvasElement>('pad');
  const padFrame = padCanvas.parentElement!;
  const padBoxes = byId('digit-boxes');
  const undoButton = byId<HTMLButtonElement>('undo');
  const clearButton = byId<HTMLButtonElement>('clear');
  const predictButton = byId<HTMLButtonElement>('predict');
  const message = byId('message');
  const messageText = byId('message-text');
  const useBrowserButton = byId<HTMLButtonElement>('use-browser');
  const status = byId('status');
  const results = new ResultsView();
  // Corrections: the server's on the server page, this browser's in the static build.
  const user = userId();
  const correctionsBackend = site === 'static' ? browserCorrections() : serverCorrections(user);
  const localAdaptation = new LocalAdaptation(correctionsBackend);
  const corrections = mountCorrections(byId('result-panel'), {
    backend: correctionsBackend,
    onChange: () => {
      localAdaptation.invalidate();
      if (hasSomethingToRead()) void predict();
    },
  });
  const numberView = mountNumberView(byId('number-digits'), (index) =>
    update(digitPicked(state, index)),
  );
  const photoView = mountPhotoView({
    view: byId('photo-view'),
    stage: byId('photo-stage'),
    overlay: byId('photo-boxes'),
    caption: byId('photo-caption'),
  });

  let state = initialState(site);
  let autoPredict: ReturnType<typeof setTimeout> | undefined;
  let standbyTimer: ReturnType<typeof setTimeout> | undefined;

  const pad = new DrawingPad(padCanvas, {
    onStrokeStart: () => {
      clearTimeout(autoPredict);
      // The in-browser model loads as the first stroke begins, if it is needed and not loading
      // yet: fetched and compiled while the drawing is made, never only after Predict.
      if (!models.started && (state.mode === 'browser' || state.serverAway))
        models.load().catch(() => undefined);
      loadStandbyAfterPause();
      update(strokeStarted(state));
    },
    onStrokeEnd: () => {
      render(state, state); // the controls follow the pad's ink
      loadStandbyAfterPause();
      schedulePrediction();
    },
    onErase: () => {
      if (pad.isEmpty) clearTimeout(autoPredict);
      else schedulePrediction();
      update(strokesErased(state, pad.isEmpty));
    },
  });

  function hasSomethingToRead(): boolean {
    return somethingToRead(state, pad.isEmpty);
  }

  function currentSource(): Source {
    const { photo } = state;
    if (photo) {
      return {
        what: 'photo',
        width: photo.canvas.width,
        height: photo.canvas.height,
        strokes: 0,
        at: { x: 0, y: 0 },
        image: photo.toDataUrl,
        gray: photo.toGrayBitmap,
      };
    }
    const crop = pad.inkCrop();
    return {
      what: 'drawing',
      width: padCanvas.width,
      height: padCanvas.height,
      strokes: pad.strokeCount,
      at: { x: crop?.x ?? 0, y: crop?.y ?? 0 },
      image: () => pad.toPngDataUrl(crop),
      gray: () => pad.toGrayBitmap(crop),
    };
  }

  function update(next: PageState): void {
    const was = state;
    state = next;
    render(was, next);
  }

  /** Puts on the page what changed from `was` to `now` (the controls, always: the pad moves them). */
  function render(was: PageState, now: PageState): void {
    if (now.photo !== was.photo) {
      if (now.photo) photoView.show(now.photo);
      else photoView.hide();
      padFrame.hidden = now.photo !== null;
    }
    if (now.answer !== was.answer) {
      const result = resultOf(now.answer);
      if (result) results.show(result.digit, result.text, result.strokes);
      else results.clear();
      // A correction is for the digit picked: the whole drawing's only one for a single digit.
      corrections.show(result?.digit ?? null, now.answer?.again);
    }
    if (now.answer !== was.answer || now.busy !== was.busy) results.setBusy(now.busy);
    const boxes = boxesOn(now);
    if (now.answer !== was.answer || boxes !== boxesOn(was)) {
      const layer = boxes === 'photo' ? photoView.overlay : boxes === 'pad' ? padBoxes : null;
      numberView.render(now.answer?.number ?? NO_NUMBER, layer);
    }
    if (now.message !== was.message) showMessage(now);
    if (now.announcement !== was.announcement && now.announcement) {
      results.announce(now.announcement.text);
    }
    if (now.mode !== was.mode) byId<HTMLInputElement>(`mode-${now.mode}`).checked = true;
    const line = statusOf(now);
    if (status.textContent !== line.text) status.textContent = line.text;
    if (status.dataset.state !== line.state) status.dataset.state = line.state;

    const controls = controlsOf(now, pad.isEmpty);
    padFrame.classList.toggle('has-ink', controls.padHasInk);
    undoButton.disabled = controls.undoDisabled;
    clearButton.disabled = controls.clearDisabled;
    // A button that disables itself under the keyboard's focus would drop it to the page.
    const focused = [undoButton, clearButton].find((b) => b === document.activeElement);
    if (focused?.disabled) predictButton.focus();
  }

  function showMessage({ message: shown }: PageState): void {
    messageText.textContent = shown?.text ?? '';
    if (shown) message.dataset.kind = shown.kind;
    useBrowserButton.hidden = !shown?.offerBrowser;
    message.hidden = shown === null;
  }

  function schedulePrediction(): void {
    clearTimeout(autoPredict);
    autoPredict = setTimeout(() => void predict(), AUTO_PREDICT_MS);
  }

  /**
   * Reads the pad or the photo: the number on it (one digit is a number of one digit), its
   * boxes in the part that was read (Source.at).
   */
  async function recognise(
    where: Mode,
    source: Source,
    ensemble: Ensemble,
    clock: PhaseClock,
  ): Promise<{ reading: Reading; from: Provenance }> {
    if (where === 'server') {
      const image = source.image();
      clock.lap('capture');
      const { reading, roundTripMs, serverMs } = await readOnServer(image, ensemble, user);
      clock.skip();
      const ownMs = serverMs ?? reading.ms;
      clock.add('server', ownMs);
      clock.add('request', roundTripMs - ownMs);
      return { reading, from: { where: 'server', roundTripMs } };
    }
    const gray = source.gray();
    clock.lap('capture');
    const model = await models.load();
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

  /**
   * recognise() where the user chose; a server that cannot be reached is answered for by the
   * model in this browser (loaded as a standby), as design.md asks, and asked again next time.
   */
  async function recogniseOrFallBack(
    source: Source,
    clock: PhaseClock,
  ): Promise<Awaited<ReturnType<typeof recognise>> & { fellBack: boolean }> {
    const { mode, ensemble } = state;
    try {
      const answer = await recognise(mode, source, ensemble, clock);
      if (mode === 'server') update(serverReached(state, true));
      return { ...answer, fellBack: false };
    } catch (err) {
      if (mode !== 'server' || !(err instanceof ServerUnreachableError)) throw err;
      update(serverReached(state, false));
      try {
        return { ...(await recognise('browser', source, ensemble, clock)), fellBack: true };
      } catch {
        throw err; // the browser's model could not answer either: say why the server did not
      }
    }
  }

  async function predict(): Promise<void> {
    clearTimeout(autoPredict);
    if (!state.photo && pad.isDrawing) return; // the stroke's end schedules the prediction
    const source = hasSomethingToRead() ? currentSource() : null;
    const clock = new PhaseClock();
    update(readingAsked(state, pad.isEmpty));
    if (!source) return; // the state says the pad is empty
    const id = state.latestReading;
    const { drawingVersion } = state;
    try {
      const answer = await recogniseOrFallBack(source, clock);
      clock.skip();
      if (id !== state.latestReading) return; // a newer reading was asked meanwhile
      const { from, fellBack } = answer;
      const { width, height, strokes, at } = source;
      // Its boxes placed on the whole pad or photo, where they are shown.
      const reading = readingMoved(answer.reading, at.x, at.y);
      update(
        readingAnswered(state, id, {
          reading,
          from,
          fellBack,
          drawingVersion,
          width,
          height,
          strokes,
        }),
      );
      if (!state.answer) return; // nothing in it read as a digit
      clock.lap('render');
      // For measurements (test/e2e/measure.ts): each prediction's time and its phases, and
      // the first result (marked once: the page's entries are its memory of it).
      performance.measure(`digits:prediction:${from.where}`, {
        start: clock.start,
        detail: clock.phases,
      });
      if (performance.getEntriesByName('digits:first-result').length === 0) {
        performance.mark('digits:first-result');
      }
    } catch (err) {
      update(readingFailed(state, id, err, source.what));
    } finally {
      loadStandbyAfterPause();
    }
  }

  /**
   * Opens an image file and reads it in place of the pad. A file that cannot be opened says
   * why and changes nothing: the drawing, or the photo shown, and its answer stay.
   */
  async function readPhotoFile(file: File): Promise<void> {
    const name = file.name || 'the image';
    update(photoFileAsked(state, name));
    const id = state.latestPhotoFile;
    let opened: Photo;
    try {
      const { openPhoto } = await import('./photo.ts');
      opened = await openPhoto(file, file.name);
    } catch (err) {
      update(photoFileFailed(state, id, err, name));
      return;
    }
    if (id !== state.latestPhotoFile) return;
    clearTimeout(autoPredict);
    update(photoOpened(state, id, opened));
    void predict();
  }

  /** Clear: a photo shown goes away first (back to the drawing, read again), then the drawing. */
  function clearShown(): void {
    if (!state.photo) {
      pad.clear();
      return;
    }
    update(photoClosed(state, pad.isEmpty));
    if (!pad.isEmpty) void predict();
  }

  function chooseMode(mode: Mode): void {
    // Choosing this browser loads its model (once); its status shows as it goes.
    if (mode === 'browser') models.load().catch(() => undefined);
    update(modeChosen(state, mode));
    if (hasSomethingToRead()) void predict();
  }

  // Controls
  predictButton.addEventListener('click', () => void predict());
  undoButton.addEventListener('click', () => {
    if (!state.photo) pad.undo();
  });
  clearButton.addEventListener('click', clearShown);
  useBrowserButton.addEventListener('click', () => chooseMode('browser'));
  listenForPhotos({
    input: byId<HTMLInputElement>('upload'),
    dropZone: byId('pad-card'),
    onFile: (file) => void readPhotoFile(file),
  });
  for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="mode"]')) {
    radio.addEventListener('change', () => {
      if (radio.checked) chooseMode(radio.value as Mode);
    });
  }
  for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="ensemble"]')) {
    radio.addEventListener('change', () => {
      if (!radio.checked) return;
      update(ensembleChosen(state, radio.value as Ensemble));
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
      if (!state.photo) pad.undo();
    }
  });

  // Start
  if (site === 'static') {
    // The static site has no server: recognition always runs here.
    byId('mode-choice').hidden = true;
    byId<HTMLInputElement>('mode-server').disabled = true;
  }
  document.documentElement.dataset.site = site;
  byId<HTMLInputElement>(`mode-${state.mode}`).checked = true;
  render(state, state);
  models.listen((model) => update(browserModelChanged(state, model)));
  if (state.mode === 'browser') {
    // The user's corrections are read (IndexedDB opened) while the first drawing is made, not
    // when it is answered: that took 12-19 ms of the first answer (bench:web, "adaptation").
    models.load().then(
      (model) => localAdaptation.prepare(model),
      () => undefined,
    );
  } else loadStandbyAfterPause();

  /**
   * On the server page, the in-browser model is loaded in the background as a standby, so
   * that switching to it works at once, even when the server has gone away meanwhile. It
   * waits for a pause (each stroke and reading puts it off again): loading it takes the CPU
   * for most of a second, which a reading the visitor waits for must not share. Skipped when
   * the visitor asked to save data.
   */
  function loadStandbyAfterPause(): void {
    const connection = (navigator as Navigator & { connection?: { saveData?: boolean } })
      .connection;
    if (models.started || connection?.saveData) return;
    const start = () => {
      if (!models.started) models.load().catch(() => undefined);
    };
    clearTimeout(standbyTimer);
    standbyTimer = setTimeout(() => {
      if (pad.isDrawing) return; // a long stroke: its end puts the standby off again
      if ('requestIdleCallback' in window) requestIdleCallback(start, { timeout: 3000 });
      else start();
    }, STANDBY_AFTER_PAUSE_MS);
  }
}
