/**
 * A photo of a number written on a check, made by the tests: grey security paper with a wavy
 * printed pattern, lit more on one side, a printed baseline, and the test writer's digits
 * (digit-strokes.ts) in a thick dark pen, spaced apart. Encoded as a JPEG, as a camera
 * would, larger than the page reads (so the page scales it down before reading it).
 */
import { crc32 } from 'node:zlib';
import { createCanvas } from '@napi-rs/canvas';
import type { Page } from 'playwright-core';
import { numberStrokes } from './digit-strokes.ts';

/** From one digit to the next, in units of the writing's height: apart, as on a check. */
const STEP = 0.75;
/** The writing's height ("the pad's height" of digit-strokes.ts), of the photo's height. */
const WRITING = 0.6;
const TOP = 0.16;
const LEFT = 0.12;

export interface PaperPhoto {
  readonly jpeg: Buffer;
  readonly width: number;
  readonly height: number;
}

export function checkPhoto(text: string, width = 2400, height = 900): PaperPhoto {
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  // Paper: lighter on the left than on the right.
  const light = ctx.createLinearGradient(0, 0, width, height);
  light.addColorStop(0, 'rgb(226, 228, 222)');
  light.addColorStop(1, 'rgb(188, 190, 184)');
  ctx.fillStyle = light;
  ctx.fillRect(0, 0, width, height);
  // The security pattern: thin wavy lines, lighter than any pen.
  ctx.strokeStyle = 'rgba(120, 130, 140, 0.45)';
  ctx.lineWidth = 3;
  for (let y0 = -40; y0 < height + 40; y0 += 26) {
    ctx.beginPath();
    for (let x = 0; x <= width; x += 12) {
      const y = y0 + 9 * Math.sin(x / 60 + y0 / 50);
      if (x === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    }
    ctx.stroke();
  }
  // The printed line the amount is written on.
  const unit = height * WRITING;
  const top = height * TOP;
  ctx.fillStyle = 'rgb(90, 95, 105)';
  ctx.fillRect(width * 0.04, top + unit * 0.9, width * 0.92, 4);
  // The writing: a thick dark-blue ballpoint.
  const left = width * LEFT;
  ctx.strokeStyle = 'rgb(25, 30, 70)';
  ctx.lineWidth = unit / 16;
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  for (const stroke of numberStrokes(text, STEP)) {
    ctx.beginPath();
    stroke.forEach(([u, v], i) => {
      const x = left + u * unit;
      const y = top + v * unit;
      if (i === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    });
    ctx.stroke();
  }
  return { jpeg: canvas.toBuffer('image/jpeg', 88), width, height };
}

/** A scan of a blank white sheet: nothing printed or written on it. */
export function blankScan(width = 1200, height = 900): Buffer {
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, height);
  return canvas.toBuffer('image/png');
}

/** A file as Playwright's setInputFiles takes it. */
export interface UploadFile {
  readonly name: string;
  readonly mimeType: string;
  readonly buffer: Buffer;
}

/** Files the page must refuse, each with what its message should say. */
export function badFiles(): { file: UploadFile; says: RegExp }[] {
  const jpeg = checkPhoto('274', 800, 300).jpeg;
  return [
    {
      // A text file renamed .jpg: the browser gives its name's type.
      file: { name: 'notes.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('Pay 274 to…\n') },
      says: /“notes\.jpg” is not an image/,
    },
    {
      file: {
        name: 'cut-off.jpg',
        mimeType: 'image/jpeg',
        buffer: jpeg.subarray(0, jpeg.length >> 1),
      },
      says: /“cut-off\.jpg” could not be opened: the image is damaged or incomplete/,
    },
    {
      file: { name: 'huge.png', mimeType: 'image/png', buffer: hugePngHeader(30_000, 30_000) },
      says: /30000×30000 \(900 megapixels\), too large to open here/,
    },
  ];
}

/** The start of a PNG that claims to be width x height (the pixels themselves never come). */
function hugePngHeader(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit gray, no interlace
  const type = Buffer.from('IHDR');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(ihdr.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([type, ihdr])));
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, length, type, ihdr, crc]);
}

/** Where each digit's middle is in a checkPhoto, as fractions of its width (left to right). */
export function digitCentres(photo: PaperPhoto, digits: number): number[] {
  const { width, height } = photo;
  // numberStrokes starts each digit (0..1 wide) at i * STEP - 0.2.
  return Array.from(
    { length: digits },
    (_, i) => (width * LEFT + (i * STEP + 0.3) * height * WRITING) / width,
  );
}

export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/**
 * Gives the page a file through "Read a photo" and waits until a reading of it is shown:
 * the photo, the digits' boxes over it, the answer done.
 */
export async function uploadPhoto(page: Page, file: UploadFile): Promise<void> {
  await page.getByTestId('upload').setInputFiles(file);
  await waitForPhotoReading(page);
}

export async function waitForPhotoReading(page: Page): Promise<void> {
  await page.waitForFunction(
    () => {
      const panel = document.querySelector<HTMLElement>('[data-testid="result-panel"]');
      return (
        panel?.dataset.state === 'done' &&
        document.querySelector('#photo-boxes [data-testid="digit-box"]') !== null
      );
    },
    null,
    { timeout: 60_000 },
  );
}

/** The photo shown, and its digits' boxes, in the page's CSS pixels. */
export async function shownPhoto(page: Page): Promise<{ photo: Rect; boxes: Rect[] }> {
  const photo = await page.getByTestId('photo').boundingBox();
  if (!photo) throw new Error('no photo is shown');
  const boxes = await page.locator('#photo-boxes [data-testid="digit-box"]').evaluateAll((els) =>
    els.map((el) => {
      const { x, y, width, height } = el.getBoundingClientRect();
      return { x, y, width, height };
    }),
  );
  return { photo, boxes };
}

/** Each box lies on the photo, over its own digit (whose middle is `centres`, of the width). */
export function boxesOverDigits(
  shown: { photo: Rect; boxes: Rect[] },
  centres: number[],
): string[] {
  const { photo, boxes } = shown;
  const wrong: string[] = [];
  if (boxes.length !== centres.length)
    wrong.push(`${boxes.length} boxes, ${centres.length} digits`);
  boxes.forEach((b, i) => {
    const inside =
      b.x >= photo.x - 1 &&
      b.y >= photo.y - 1 &&
      b.x + b.width <= photo.x + photo.width + 1 &&
      b.y + b.height <= photo.y + photo.height + 1;
    if (!inside) wrong.push(`box ${i} is not on the photo`);
    const centre = photo.x + centres[i] * photo.width;
    if (!(b.x < centre && centre < b.x + b.width)) wrong.push(`box ${i} is not over digit ${i}`);
    if (b.height < photo.height * 0.25) wrong.push(`box ${i} is ${b.height} px high`);
  });
  return wrong;
}
