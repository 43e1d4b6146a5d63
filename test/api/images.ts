/** Test images made in the test run: drawn digits, blank pages and deliberately broken PNGs. */
import { createCanvas, type SKRSContext2D } from '@napi-rs/canvas';
import { PNG } from 'pngjs';
import { Random } from '../../src/core/random.ts';

export type Stroke = readonly (readonly [number, number])[];

/** Strokes of a plain "7" on a 280x280 pad. */
export const SEVEN: Stroke[] = [
  [
    [70, 60],
    [210, 60],
    [120, 235],
  ],
];

/** Strokes of a "4". */
export const FOUR: Stroke[] = [
  [
    [170, 50],
    [80, 170],
    [200, 170],
  ],
  [
    [170, 50],
    [170, 235],
  ],
];

/** A capital "A": not a digit, and not like one. */
export const LETTER_A: Stroke[] = [
  [
    [60, 235],
    [140, 45],
    [220, 235],
  ],
  [
    [95, 160],
    [185, 160],
  ],
];

/** A scratch-out: back and forth many times. */
export const SCRIBBLE: Stroke[] = [
  Array.from({ length: 12 }, (_, i) => [i % 2 ? 230 : 50, 50 + i * 16] as const),
];

/** `strokes` drawn with a round pen `pen` px wide (18 units by default), `scale` px a unit. */
export function draw(
  g: SKRSContext2D,
  strokes: readonly Stroke[],
  scale: number,
  color: string,
  pen = 18 * scale,
): void {
  g.strokeStyle = color;
  g.lineWidth = pen;
  g.lineCap = 'round';
  g.lineJoin = 'round';
  for (const stroke of strokes) {
    g.beginPath();
    stroke.forEach(([x, y], i) =>
      i ? g.lineTo(x * scale, y * scale) : g.moveTo(x * scale, y * scale),
    );
    g.stroke();
  }
}

export interface Drawing {
  readonly width: number;
  readonly height: number;
  /** RGBA, as a canvas holds it. */
  readonly rgba: Uint8ClampedArray;
  png(): Buffer;
  jpeg(): Buffer;
}

/**
 * Black round strokes as a person draws them on the page's pad. `background: 'transparent'`
 * is what an untouched canvas holds; `'photo'` is a page photographed in uneven light (grey
 * paper from 150 to 215, dark grey ink).
 */
export function drawDigit(
  strokes: Stroke[],
  options: { size?: number; background?: 'white' | 'transparent' | 'photo' } = {},
): Drawing {
  const size = options.size ?? 280;
  const canvas = createCanvas(size, size);
  const g = canvas.getContext('2d');
  const background = options.background ?? 'white';
  if (background === 'white') {
    g.fillStyle = '#fff';
    g.fillRect(0, 0, size, size);
  } else if (background === 'photo') {
    const light = g.createLinearGradient(0, 0, size, size);
    light.addColorStop(0, '#969696');
    light.addColorStop(1, '#d7d7d7');
    g.fillStyle = light;
    g.fillRect(0, 0, size, size);
  }
  const ink = background === 'photo' ? '#3c3c3c' : '#000';
  if (strokes.length) draw(g, strokes, size / 280, ink);
  return {
    width: size,
    height: size,
    rgba: g.getImageData(0, 0, size, size).data,
    png: () => canvas.toBuffer('image/png'),
    jpeg: () => canvas.toBuffer('image/jpeg', 92),
  };
}

/**
 * A number: each digit's strokes (drawn for a 280x280 pad) scaled by `scale` and placed one
 * after the other, `pitch` pad pixels apart, on a canvas just wide enough.
 */
export function drawNumber(
  digits: Stroke[][],
  options: { scale?: number; pitch?: number; height?: number } = {},
): Drawing {
  const scale = options.scale ?? 0.5;
  const pitch = options.pitch ?? 160;
  const width = Math.ceil(pitch * digits.length + 40);
  const height = options.height ?? Math.ceil(280 * scale);
  const canvas = createCanvas(width, height);
  const g = canvas.getContext('2d');
  g.fillStyle = '#fff';
  g.fillRect(0, 0, width, height);
  digits.forEach((strokes, i) => {
    const moved = strokes.map((s) => s.map(([x, y]) => [x + (i * pitch) / scale, y] as const));
    draw(g, moved, scale, '#000');
  });
  return {
    width,
    height,
    rgba: g.getImageData(0, 0, width, height).data,
    png: () => canvas.toBuffer('image/png'),
    jpeg: () => canvas.toBuffer('image/jpeg', 92),
  };
}

/** Grayscale 0..255 as the server computes it (alpha over white). */
export function grayPixels(drawing: Drawing): number[] {
  const out = new Array<number>(drawing.width * drawing.height);
  const { rgba } = drawing;
  for (let i = 0, p = 0; i < out.length; i++, p += 4) {
    const a = rgba[p + 3] / 255;
    const lum = 0.299 * rgba[p] + 0.587 * rgba[p + 1] + 0.114 * rgba[p + 2];
    out[i] = Math.round(lum * a + 255 * (1 - a));
  }
  return out;
}

export function dataUrl(bytes: Buffer, type = 'image/png'): string {
  return `data:${type};base64,${bytes.toString('base64')}`;
}

/** An opaque white PNG: no ink at all. */
export function whitePng(width = 280, height = 280): Buffer {
  const png = new PNG({ width, height });
  png.data.fill(255);
  return PNG.sync.write(png);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/**
 * `side` x `side` of white with black dots (200,000 at 2048, as many a pixel at other sizes),
 * deflated hard: a small upload that costs a reader much (issue 26).
 */
export function saltNoisePng(side: number): Buffer {
  const rng = new Random(1);
  const png = new PNG({ width: side, height: side });
  png.data.fill(255);
  for (let i = 0; i < Math.round(200_000 * (side / 2048) ** 2); i++) {
    const at = 4 * rng.int(side * side);
    png.data.fill(0, at, at + 3);
  }
  return PNG.sync.write(png, { deflateLevel: 9 });
}

/** A well-formed PNG header claiming width x height, with no image data behind it. */
export function pngClaiming(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', Buffer.alloc(0)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** The first part of a real PNG, as an interrupted upload leaves it. */
export function truncatedPng(): Buffer {
  const png = drawDigit(SEVEN).png();
  return png.subarray(0, Math.floor(png.length / 2));
}

/** A 28x28 MNIST-style "7": white ink on black, as `ink: "light"` expects. */
export function mnistSeven(): number[] {
  const drawing = drawDigit(SEVEN, { size: 28 });
  return grayPixels(drawing).map((v) => 255 - v);
}

/**
 * A "1" with a flag, as many Europeans write it: a flag `flag` px long dropping `drop` px to
 * the top of a stem leaning by `lean` px. Long flags are read as 7 by the model.
 */
export function flagOne(flag: number, drop: number, lean: number): Stroke[] {
  return [
    [
      [140 - flag, 40 + drop],
      [140 + lean, 40],
      [140 - lean, 240],
    ],
  ];
}

/**
 * One writer's flagged 1, drawn twice a little differently, both read as 7 by the model alone:
 * a correction of the first should show on the second. (Since the model learnt long, flat
 * flags, a drop of 30 px over a 60 px flag is read as 1: these are longer and flatter.)
 */
export const CORRECTED_ONE = flagOne(90, 15, 15);
export const ANOTHER_ONE = flagOne(90, 30, 15);
