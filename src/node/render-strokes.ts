/**
 * Pen strokes rendered as a person's drawing pad would show them (design.md, "Development
 * data"): a 280x280 canvas, white background, black round strokes of a fixed brush width,
 * line segments between the sampled points, and the writer's whole 500x500 box mapped onto
 * the whole pad, so each writer's own size and place are kept.
 */
import { createCanvas, type Canvas } from '@napi-rs/canvas';
import type { GrayBitmap } from '../core/preprocess.ts';
import type { ComposedNumber } from '../data/compose-numbers.ts';
import { PEN_BOX, type PenStroke } from '../data/pendigits.ts';

/** The drawing pad's side in pixels, as on the web page. */
export const PAD_SIZE = 280;
/** The brush widths the evaluation reports: a finger or fat pen, and a fine pen. */
export const BRUSHES = [16, 8] as const;

export interface RenderOptions {
  /** Line width in pad pixels (default 16). */
  readonly brush?: number;
  /** Pad side in pixels (default 280): the writer's box maps onto size x size. */
  readonly size?: number;
  /** The canvas's height when it is not square (a wide pad for a number); default `size`. */
  readonly height?: number;
  /** Side of the writer's box in pen units (default 500). */
  readonly box?: number;
  /** Whether y points up in the pen coordinates, as in the pen-digits data (default true). */
  readonly yUp?: boolean;
}

/** How a composed number is drawn: on a canvas of its own size, its strokes in its pixels, y down. */
export function numberPad(n: ComposedNumber): RenderOptions {
  return { brush: n.brush, size: n.width, height: n.height, box: n.width, yUp: false };
}

/** Pad coordinates of a pen point: x*size/box, and y flipped, (box-y)*size/box. */
export function toPad(
  p: { x: number; y: number },
  options: RenderOptions = {},
): { x: number; y: number } {
  const size = options.size ?? PAD_SIZE;
  const box = options.box ?? PEN_BOX;
  const y = (options.yUp ?? true) ? box - p.y : p.y;
  return { x: (p.x * size) / box, y: (y * size) / box };
}

/**
 * One canvas per size, redrawn for each digit: creating one costs more than drawing. Composed
 * numbers come in as many sizes as there are numbers, so only the last few sizes are kept
 * (each canvas holds native memory the garbage collector does not see).
 */
const pads = new Map<string, Canvas>();
const PADS_KEPT = 8;

/**
 * Bytes of pixels read from canvases since the event loop last turned. The canvas frees what
 * it hands out in finalizers that Node runs only between turns of the event loop (as
 * immediates), however often the garbage collector runs: a synchronous loop of renderings
 * holds every one of them until it ends (16 GB, and an out-of-memory kill, when the training
 * composed 6,000 numbers). So rendering is asynchronous: each call lets the loop turn once
 * enough is held, and no loop of renderings can forget to.
 */
let heldBytes = 0;
const HOLD_LIMIT = 64 * 1024 * 1024;

/** Lets the event loop turn, so that the renderings' pixels are freed, once enough are held. */
async function releaseRenderings(): Promise<void> {
  if (heldBytes < HOLD_LIMIT) return;
  heldBytes = 0;
  await new Promise<void>((resolve) => setImmediate(resolve));
}

function draw(strokes: readonly PenStroke[], options: RenderOptions, reuse: boolean): Canvas {
  const size = options.size ?? PAD_SIZE;
  const height = options.height ?? size;
  const brush = options.brush ?? 16;
  if (!(brush > 0)) throw new RangeError(`the brush width must be positive, got ${brush}`);
  for (const [name, side] of [
    ['pad size', size],
    ['pad height', height],
  ] as const) {
    if (!Number.isInteger(side) || side < 1) {
      throw new RangeError(`the ${name} must be a positive integer, got ${side}`);
    }
  }
  const key = `${size}x${height}`;
  let canvas = reuse ? pads.get(key) : undefined;
  if (!canvas) {
    canvas = createCanvas(size, height);
    if (reuse) {
      if (pads.size >= PADS_KEPT) pads.delete(pads.keys().next().value!);
      pads.set(key, canvas);
    }
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, size, height);
  ctx.strokeStyle = '#000';
  ctx.fillStyle = '#000';
  ctx.lineWidth = brush;
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  for (const stroke of strokes) {
    const points = stroke.map((p) => toPad(p, options));
    if (points.length === 0) continue;
    const moves = points.some((p) => p.x !== points[0].x || p.y !== points[0].y);
    if (!moves) {
      // A tap: a dot of the brush's size, as a drawing page paints on pointerdown.
      ctx.beginPath();
      ctx.arc(points[0].x, points[0].y, brush / 2, 0, 2 * Math.PI);
      ctx.fill();
      continue;
    }
    ctx.beginPath();
    ctx.moveTo(points[0].x, points[0].y);
    for (const p of points.slice(1)) ctx.lineTo(p.x, p.y);
    ctx.stroke();
  }
  return canvas;
}

/** The strokes as a grayscale bitmap (0 = black ink .. 255 = white paper), size x height. */
export async function renderStrokes(
  strokes: readonly PenStroke[],
  options: RenderOptions = {},
): Promise<GrayBitmap> {
  const canvas = draw(strokes, options, true);
  const { width, height } = canvas;
  const rgba = canvas.getContext('2d').getImageData(0, 0, width, height).data;
  heldBytes += rgba.byteLength;
  const data = new Uint8ClampedArray(width * height);
  for (let i = 0, p = 0; i < data.length; i++, p += 4) {
    data[i] = 0.299 * rgba[p] + 0.587 * rgba[p + 1] + 0.114 * rgba[p + 2];
  }
  await releaseRenderings();
  return { width, height, data };
}

/** The strokes as PNG bytes, as a canvas snapshot would send them. */
export async function renderStrokesPng(
  strokes: readonly PenStroke[],
  options: RenderOptions = {},
): Promise<Buffer> {
  const canvas = draw(strokes, options, false);
  // A canvas of its own each time, whose pixels are freed as late as read ones (above).
  heldBytes += canvas.width * canvas.height * 4;
  const png = canvas.encodeSync('png');
  await releaseRenderings();
  return png;
}
