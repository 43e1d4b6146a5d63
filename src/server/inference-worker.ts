/**
 * One inference worker: its own wasm backend and copy of the model. It decodes, preprocesses
 * and recognizes off the main thread. Work that arrives while it is busy is recognized
 * together: the inputs of several requests share one forward pass, which costs less per
 * image than one pass each.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PNG } from 'pngjs';
import { InputError } from '../core/errors.ts';
import { MODEL_SIZE, type GrayImage } from '../core/image.ts';
import { preprocess, type GrayBitmap, type InkPolarity } from '../core/preprocess.ts';
import { tf } from '../model/backend.ts';
import { decodeDataUrl } from '../node/decode.ts';
import { loadRecognizer } from '../recognizer/node.ts';
import { WARM_UP_ROUNDS, warmUpDrawings } from '../recognizer/warm-up.ts';
import type { PreparedNumber, Recognizer } from '../recognizer/recognizer.ts';
import type {
  FromWorker,
  ReadResult,
  ToWorker,
  WorkInput,
  WorkOperation,
  WorkResult,
  WorkerData,
} from './inference-protocol.ts';

if (!parentPort) throw new Error('inference-worker must run in a worker thread');
const port = parentPort;

/**
 * Inputs per forward pass (each is 10 variants unless `off`). More gains little speed and
 * grows the wasm heap, which never shrinks.
 */
const MAX_PASS_INPUTS = 16;

function send(message: FromWorker): void {
  port.postMessage(message);
}

const liveTensors = () => tf.memory().numTensors;

/** An input still to decode and prepare (not a stored 28x28). */
type RawInput = Exclude<WorkInput, { kind: 'input' }>;

function bitmapOf(input: RawInput): { bitmap: GrayBitmap; ink: InkPolarity } {
  if (input.kind === 'image') return { bitmap: decodeDataUrl(input.image), ink: 'dark' };
  return {
    bitmap: { width: input.width, height: input.height, data: input.pixels },
    ink: input.ink,
  };
}

function emptyMessage(input: RawInput): string {
  if (input.kind === 'image')
    return 'the image has no ink: draw a digit first (dark ink on a light background)';
  return input.ink === 'dark'
    ? 'the pixels have no ink (all near white): draw a digit, or set `ink` to "light" for a white digit on black'
    : 'the pixels have no ink (all near black): send a white digit on black, or set `ink` to "dark"';
}

/**
 * One input of a task on its way through a drain: prepared, then recognized (or read) or
 * refused. Not the pool's request: a task holds several of these.
 */
interface WorkItem {
  readonly input: WorkInput;
  readonly operation: WorkOperation;
  /** The 28x28 of a digit to recognize. */
  image?: GrayImage;
  /** A number to read, made ready for the reader. */
  number?: PreparedNumber;
  prepareMs: number;
  result?: WorkResult | ReadResult;
}

function prepare(recognizer: Recognizer, item: WorkItem): void {
  const start = performance.now();
  try {
    const { input } = item;
    if (input.kind === 'input') {
      // A stored correction's 28x28: already prepared.
      item.image = { width: MODEL_SIZE, height: MODEL_SIZE, data: input.input };
    } else if (item.operation === 'read') {
      const { bitmap, ink } = bitmapOf(input);
      const number = recognizer.prepareNumber(bitmap, ink, true, input.layout);
      if (!number) throw new InputError('empty_image', emptyMessage(input));
      item.number = number;
    } else {
      const { bitmap, ink } = bitmapOf(input);
      const image = preprocess(bitmap, ink);
      if (!image) throw new InputError('empty_image', emptyMessage(input));
      item.image = image;
    }
  } catch (err) {
    item.result =
      err instanceof InputError
        ? { ok: false, code: err.code, message: err.message }
        : {
            ok: false,
            code: 'internal_error',
            message: `could not read the input: ${String(err)}`,
          };
  }
  item.prepareMs = performance.now() - start;
}

const round2 = (ms: number) => Math.round(ms * 100) / 100;

/** Items grouped by what their forward pass must be: the ensemble, and whether with features. */
function byPass(items: WorkItem[]): Map<string, WorkItem[]> {
  const groups = new Map<string, WorkItem[]>();
  for (const item of items) {
    const key = `${item.input.ensemble}:${item.input.features === true}`;
    const group = groups.get(key) ?? [];
    group.push(item);
    groups.set(key, group);
  }
  return groups;
}

/**
 * Recognizes the prepared items: the digits in one forward pass per ensemble and
 * MAX_PASS_INPUTS; the numbers together, in their two passes per ensemble.
 */
function recognize(recognizer: Recognizer, items: WorkItem[]): string | undefined {
  let fatal: string | undefined;
  const attempt = (chunk: WorkItem[], work: () => void) => {
    try {
      work();
    } catch (err) {
      fatal = String(err);
      for (const item of chunk)
        item.result = { ok: false, code: 'internal_error', message: 'the recognizer failed' };
    }
  };
  for (const group of byPass(items.filter((item) => item.image)).values()) {
    const { ensemble, features } = group[0].input;
    for (let i = 0; i < group.length; i += MAX_PASS_INPUTS) {
      const chunk = group.slice(i, i + MAX_PASS_INPUTS);
      attempt(chunk, () => {
        const images = chunk.map((item) => item.image as GrayImage);
        // With features (adaptation), they come from the same pass (features.ts).
        const answers = features
          ? recognizer.recognizeWithFeatures(images, ensemble)
          : recognizer.recognizeInputs(images, ensemble).map((recognition) => ({ recognition }));
        chunk.forEach((item, k) => {
          const { recognition, ...extra } = answers[k];
          const ms = round2(item.prepareMs + recognition.ms);
          item.result = { ok: true, recognition: { ...recognition, ms }, ...extra };
        });
      });
    }
  }
  for (const group of byPass(items.filter((item) => item.number)).values()) {
    const { ensemble } = group[0].input;
    attempt(group, () => {
      const readings = recognizer.readPrepared(
        group.map((item) => item.number as PreparedNumber),
        ensemble,
      );
      group.forEach((item, k) => {
        const { reading, forwardMs } = readings[k];
        item.result = { ok: true, reading: { ...reading, ms: round2(item.prepareMs + forwardMs) } };
      });
    });
  }
  return fatal;
}

const queue: ToWorker[] = [];
let drainScheduled = false;

/**
 * Drains on setImmediate: the messages that arrived while the worker was busy are all queued
 * by then, so they share a forward pass.
 */
function scheduleDrain(recognizer: Recognizer): void {
  if (drainScheduled) return;
  drainScheduled = true;
  setImmediate(() => {
    drainScheduled = false;
    drain(recognizer);
  });
}

function drain(recognizer: Recognizer): void {
  const start = performance.now();
  // Take whole tasks until a forward pass is full; the rest wait for the next drain.
  const tasks: ToWorker[] = [];
  let inputs = 0;
  while (queue.length && (inputs === 0 || inputs + queue[0].inputs.length <= MAX_PASS_INPUTS)) {
    const task = queue.shift() as ToWorker;
    tasks.push(task);
    inputs += task.inputs.length;
  }
  const itemsPerTask = tasks.map((task) =>
    task.inputs.map((input): WorkItem => ({
      input,
      operation: task.operation ?? 'recognize',
      prepareMs: 0,
    })),
  );
  const items = itemsPerTask.flat();
  items.forEach((item) => prepare(recognizer, item));
  const fatal = recognize(recognizer, items);
  // One message for the whole pass: each message costs a wake-up of the main thread.
  const answers = tasks.map((task, t) => ({
    id: task.id,
    results: itemsPerTask[t].map(
      (item): WorkResult | ReadResult =>
        item.result ?? { ok: false, code: 'internal_error', message: 'not recognized' },
    ),
  }));
  send({ type: 'results', answers, ms: performance.now() - start, tensors: liveTensors() });
  if (fatal) {
    send({ type: 'fatal', message: fatal });
    return;
  }
  if (queue.length) scheduleDrain(recognizer);
}

/** A gray bitmap as the data URL of a PNG, as a request would bring it. */
function pngDataUrl({ width, height, data }: GrayBitmap): string {
  const png = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) {
    png.data.fill(data[i], i * 4, i * 4 + 3);
    png.data[i * 4 + 3] = 255;
  }
  return `data:image/png;base64,${PNG.sync.write(png).toString('base64')}`;
}

/**
 * Full requests' paths (PNG decode, preprocessing, reading, variants, forward passes) before
 * the worker reports ready, on the drawings the browser's worker warms up on too
 * (warm-up.ts): warming the model alone left the first real request 3x slower.
 */
function warmUpPipeline(recognizer: Recognizer): void {
  const images = warmUpDrawings().map(pngDataUrl);
  for (let round = 0; round < WARM_UP_ROUNDS; round++) {
    for (const image of images) {
      for (const ensemble of ['vote', 'off'] as const) {
        for (const operation of ['recognize', 'read'] as const) {
          const item: WorkItem = {
            input: { kind: 'image', image, ensemble },
            operation,
            prepareMs: 0,
          };
          prepare(recognizer, item);
          recognize(recognizer, [item]);
          if (!item.result?.ok) throw new Error(`warm-up ${operation} failed`);
        }
      }
    }
  }
}

async function main(): Promise<void> {
  const { modelDir } = (workerData ?? {}) as WorkerData;
  let recognizer: Recognizer;
  try {
    recognizer = await loadRecognizer(modelDir);
    warmUpPipeline(recognizer);
  } catch (err) {
    send({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
    return;
  }
  port.on('message', (message: ToWorker) => {
    queue.push(message);
    scheduleDrain(recognizer);
  });
  send({ type: 'ready', model: recognizer.info, tensors: liveTensors() });
}

void main();
