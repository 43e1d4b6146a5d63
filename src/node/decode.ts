/**
 * Image decoding for Node: PNG and JPEG from bytes, a data URL or bare base64, to a
 * grayscale bitmap with any alpha composited over white (a transparent canvas is paper).
 * The size is read from the header first, so a huge image is refused before decoding.
 */
import { imageSize } from 'image-size';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { InputError } from '../core/errors.ts';
import { rgbaToGray } from '../core/gray.ts';
import type { GrayBitmap } from '../core/preprocess.ts';
import { decodePngGray } from './png-gray.ts';

export const MAX_SIDE = 2048;

const DATA_URL = /^data:image\/(png|jpeg|jpg);base64,/i;

/** Bytes of a data URL (PNG or JPEG) or of bare base64. */
export function dataUrlBytes(text: string): Buffer {
  const match = DATA_URL.exec(text);
  if (!match && text.startsWith('data:')) {
    throw new InputError(
      'invalid_image',
      'only PNG and JPEG data URLs (data:image/png;base64,...) are supported',
    );
  }
  const base64 = match ? text.slice(match[0].length) : text;
  const compact = base64.replace(/\s+/g, '');
  if (compact.length === 0 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(compact)) {
    throw new InputError('invalid_image', '`image` is not valid base64');
  }
  return Buffer.from(compact, 'base64');
}

export type ImageType = 'png' | 'jpg';

/** What an image's header says: enough to know its cost before decoding it. */
export interface ImageHeader {
  readonly type: ImageType;
  readonly width: number;
  readonly height: number;
}

/**
 * The header of PNG or JPEG bytes (which may be only the first part of the image), checked
 * against the size limit. Throws invalid_image for anything else.
 */
function readHeader(bytes: Uint8Array): ImageHeader {
  let size: { width?: number; height?: number; type?: string };
  try {
    size = imageSize(bytes);
  } catch {
    throw new InputError('invalid_image', 'the image is not a PNG or JPEG that can be read');
  }
  const { width = 0, height = 0, type } = size;
  if (type !== 'png' && type !== 'jpg') {
    throw new InputError(
      'invalid_image',
      `${type ?? 'unknown'} images are not supported: send a PNG or JPEG`,
    );
  }
  if (width < 1 || height < 1) throw new InputError('invalid_image', 'the image has no pixels');
  if (width > MAX_SIDE || height > MAX_SIDE) {
    throw new InputError(
      'invalid_image',
      `the image is ${width}x${height}; the largest accepted is ${MAX_SIDE}x${MAX_SIDE}`,
    );
  }
  return { type, width, height };
}

/** Base64 characters decoded first when only the header is wanted: a PNG's is in 33 bytes. */
const HEADER_PREFIX_CHARS = 4096;

/**
 * The header of `image` as the API receives it (a data URL or bare base64), reading only its
 * first few kilobytes when they hold the header (every PNG, most JPEGs): the server learns a
 * request's size on the main thread without decoding it. Throws invalid_image as decoding
 * would: not an image, or larger than MAX_SIDE.
 */
export function dataUrlHeader(text: string): ImageHeader {
  const start = DATA_URL.exec(text)?.[0].length ?? 0;
  if (text.length - start > HEADER_PREFIX_CHARS) {
    const prefix = text.slice(start, start + HEADER_PREFIX_CHARS).replace(/\s+/g, '');
    const bytes = Buffer.from(prefix.slice(0, prefix.length - (prefix.length % 4)), 'base64');
    try {
      return readHeader(bytes);
    } catch {
      // A JPEG's size may follow long metadata, or the prefix is not base64: read it all.
    }
  }
  return readHeader(dataUrlBytes(text));
}

export function decodeImage(bytes: Uint8Array): GrayBitmap {
  const { type } = readHeader(bytes);
  try {
    if (type === 'png') {
      const fast = decodePngGray(bytes);
      if (fast) return fast;
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return rgbaToGray(png.data, png.width, png.height);
    }
    const jpg = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: 5,
      maxMemoryUsageInMB: 64,
    });
    return rgbaToGray(jpg.data, jpg.width, jpg.height);
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(
      'invalid_image',
      `the ${type === 'png' ? 'PNG' : 'JPEG'} is damaged: ${(err as Error).message}`,
    );
  }
}

/** Decodes `image` as the API receives it: a data URL or bare base64. */
export function decodeDataUrl(text: string): GrayBitmap {
  return decodeImage(dataUrlBytes(text));
}
