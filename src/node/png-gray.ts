/**
 * A fast path from PNG bytes straight to the grayscale bitmap, for the PNGs that browsers'
 * canvases write (8 bits per channel, not interlaced, no palette). pngjs, fast-png and
 * UPNG all take 2-3 ms for a 280x280 canvas, mostly unfiltering into RGBA in byte-by-byte
 * JS; here zlib inflates natively, RGBA rows are unfiltered four bytes at a time and white
 * paper is recognised a word at a time (0.6 ms for a 280x280 canvas, docs/benchmarks.md).
 * Other PNGs return null and are left to pngjs. The gray is the same as rgbaToGray's, pixel
 * for pixel.
 */
import { inflateSync } from 'node:zlib';
import { InputError } from '../core/errors.ts';
import { grayOf } from '../core/gray.ts';
import type { GrayBitmap } from '../core/preprocess.ts';

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];
/** Bytes per pixel for each colour type with 8-bit samples; palette (3) is not here. */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

interface Header {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
}

function damaged(why: string): InputError {
  return new InputError('invalid_image', `the PNG is damaged: ${why}`);
}

/** The header, or null if this PNG is not one the fast path reads. */
function header(bytes: Uint8Array, view: DataView): Header | null {
  if (bytes.length < 33 || SIGNATURE.some((b, i) => bytes[i] !== b)) return null;
  if (view.getUint32(8) !== 13 || view.getUint32(12) !== 0x49484452) return null; // IHDR
  const channels = CHANNELS[bytes[25]];
  const [bitDepth, compression, filter, interlace] = [bytes[24], bytes[26], bytes[27], bytes[28]];
  if (bitDepth !== 8 || !channels || compression !== 0 || filter !== 0 || interlace !== 0)
    return null;
  return { width: view.getUint32(16), height: view.getUint32(20), channels };
}

/** The IDAT chunks' bytes, joined. */
function imageData(bytes: Uint8Array, view: DataView): Uint8Array {
  const parts: Uint8Array[] = [];
  let at = 8;
  while (at + 8 <= bytes.length) {
    const length = view.getUint32(at);
    const type = view.getUint32(at + 4);
    const end = at + 8 + length;
    if (end + 4 > bytes.length) throw damaged('a chunk runs past the end of the file');
    if (type === 0x49444154) parts.push(bytes.subarray(at + 8, end)); // IDAT
    if (type === 0x49454e44) return Buffer.concat(parts); // IEND
    at = end + 4;
  }
  throw damaged('the file ends before its last chunk');
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/**
 * Undoes `filter` for the row at `at` of `px`, in place; `above` is the start of the row
 * above, or -1 for the first row (whose "above" is zero).
 */
function unfilter(
  px: Uint8Array,
  filter: number,
  at: number,
  above: number,
  stride: number,
  bpp: number,
): void {
  const end = at + stride;
  if (filter === 0) return;
  if (filter === 1) {
    for (let i = at + bpp; i < end; i++) px[i] += px[i - bpp];
  } else if (above < 0) {
    // With the row above all zero, Up is None, Average halves the left and Paeth is Sub.
    if (filter === 3) for (let i = at + bpp; i < end; i++) px[i] += px[i - bpp] >> 1;
    else if (filter === 4) for (let i = at + bpp; i < end; i++) px[i] += px[i - bpp];
    else if (filter !== 2) throw damaged(`unknown row filter ${filter}`);
  } else if (filter === 2) {
    for (let i = at, j = above; i < end; i++, j++) px[i] += px[j];
  } else if (filter === 3) {
    for (let i = at, j = above; i < at + bpp; i++, j++) px[i] += px[j] >> 1;
    for (let i = at + bpp, j = above + bpp; i < end; i++, j++) px[i] += (px[i - bpp] + px[j]) >> 1;
  } else if (filter === 4) {
    for (let i = at, j = above; i < at + bpp; i++, j++) px[i] += px[j];
    for (let i = at + bpp, j = above + bpp; i < end; i++, j++)
      px[i] += paeth(px[i - bpp], px[j], px[j - bpp]);
  } else {
    throw damaged(`unknown row filter ${filter}`);
  }
}

/** Four byte-wise additions modulo 256 in one 32-bit word (no carry between the bytes). */
function addBytes(a: number, b: number): number {
  return (((a & 0x7f7f7f7f) + (b & 0x7f7f7f7f)) | 0) ^ ((a ^ b) & 0x80808080);
}

/**
 * Sub and Up, the filters browsers' canvases write almost only, a 4-byte pixel at a time:
 * byte-wise they were most of the decoding time. Other filters go byte by byte.
 */
function unfilterRgba(
  px: Uint8Array,
  words: Int32Array,
  filter: number,
  y: number,
  width: number,
): void {
  const at = y * width;
  if (filter === 1) {
    for (let k = at + 1; k < at + width; k++) words[k] = addBytes(words[k], words[k - 1]);
  } else if (filter === 2 && y > 0) {
    for (let k = at; k < at + width; k++) words[k] = addBytes(words[k], words[k - width]);
  } else {
    unfilter(px, filter, at * 4, y > 0 ? (at - width) * 4 : -1, width * 4, 4);
  }
}

/** The `width` pixels of the row at `at` to gray, into `out` from `to` (RGBA has its own). */
function rowToGray(
  px: Uint8Array,
  at: number,
  width: number,
  channels: number,
  out: Uint8ClampedArray,
  to: number,
): void {
  const end = to + width;
  if (channels === 3)
    for (let o = to, p = at; o < end; o++, p += 3)
      out[o] = grayOf(px[p], px[p + 1], px[p + 2], 255);
  else if (channels === 2)
    for (let o = to, p = at; o < end; o++, p += 2) out[o] = grayOf(px[p], px[p], px[p], px[p + 1]);
  else for (let o = to, p = at; o < end; o++, p++) out[o] = grayOf(px[p], px[p], px[p], 255);
}

/** RGBA to gray; white and fully transparent pixels (most of a drawing) are paper at once. */
function rgbaWordsToGray(px: Uint8Array, words: Int32Array, out: Uint8ClampedArray): void {
  out.fill(255);
  for (let o = 0; o < out.length; o++) {
    const w = words[o];
    if (w !== -1 && w !== 0) {
      const p = o * 4;
      out[o] = grayOf(px[p], px[p + 1], px[p + 2], px[p + 3]);
    }
  }
}

/**
 * The PNG as a grayscale bitmap, alpha over white; null if it is not an 8-bit, non-interlaced,
 * non-palette PNG. The caller has checked the size against its limits.
 */
export function decodePngGray(bytes: Uint8Array): GrayBitmap | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const head = header(bytes, view);
  if (!head) return null;
  const { width, height, channels } = head;
  const stride = width * channels;
  const expected = height * (stride + 1);
  let raw: Buffer;
  try {
    // The cap stops a small file from inflating into gigabytes.
    raw = inflateSync(imageData(bytes, view), { maxOutputLength: expected });
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw damaged((err as Error).message);
  }
  if (raw.length !== expected) throw damaged('the image data is shorter than its header says');
  // Rows are unfiltered in an aligned copy without their filter bytes, so that RGBA rows
  // can also be read as 32-bit words.
  const px = new Uint8Array(height * stride);
  const words = channels === 4 ? new Int32Array(px.buffer) : null;
  for (let y = 0; y < height; y++) {
    const from = y * (stride + 1) + 1;
    px.set(raw.subarray(from, from + stride), y * stride);
    const filter = raw[from - 1];
    if (words) unfilterRgba(px, words, filter, y, width);
    else unfilter(px, filter, y * stride, y > 0 ? (y - 1) * stride : -1, stride, channels);
  }
  const out = new Uint8ClampedArray(width * height);
  if (words) rgbaWordsToGray(px, words, out);
  else for (let y = 0; y < height; y++) rowToGray(px, y * stride, width, channels, out, y * width);
  return { width, height, data: out };
}
