import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.ts';
import { decodeDataUrl, decodeImage, MAX_SIDE } from '../../src/node/decode.ts';

/** An RGBA PNG; `pixel(x, y)` gives [r, g, b, a]. */
function png(width: number, height: number, pixel: (x: number, y: number) => number[]): Buffer {
  const image = new PNG({ width, height });
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) image.data.set(pixel(x, y), (y * width + x) * 4);
  return PNG.sync.write(image);
}

function decodeError(bytes: Uint8Array): InputError {
  try {
    decodeImage(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  }
  throw new Error('decodeImage accepted the bytes');
}

describe('decodeImage', () => {
  it('decodes a PNG to grayscale, composing alpha over white', () => {
    // Left column transparent, middle opaque black, right black at half alpha, bottom row red.
    const bytes = png(3, 2, (x, y) => (y === 1 ? [255, 0, 0, 255] : [0, 0, 0, [0, 255, 128][x]]));
    const bitmap = decodeImage(bytes);
    expect(bitmap.width).toBe(3);
    expect(bitmap.height).toBe(2);
    expect(bitmap.data[0]).toBe(255);
    expect(bitmap.data[1]).toBe(0);
    expect(bitmap.data[2]).toBeGreaterThanOrEqual(126);
    expect(bitmap.data[2]).toBeLessThanOrEqual(128);
    expect(bitmap.data[3]).toBe(76); // luminance of pure red
  });

  it('decodes a JPEG', () => {
    const width = 32;
    const height = 24;
    const data = Buffer.alloc(width * height * 4, 255);
    for (let y = 8; y < 16; y++)
      for (let x = 8; x < 24; x++) data.fill(0, (y * width + x) * 4, (y * width + x) * 4 + 3);
    const bytes = jpeg.encode({ data, width, height }, 90).data;
    const bitmap = decodeImage(bytes);
    expect(bitmap.width).toBe(width);
    expect(bitmap.height).toBe(height);
    expect(bitmap.data[12 * width + 16]).toBeLessThan(30);
    expect(bitmap.data[2 * width + 2]).toBeGreaterThan(225);
  });

  it('refuses bytes that are not an image', () => {
    const err = decodeError(new TextEncoder().encode('definitely not a picture'));
    expect(err.code).toBe('invalid_image');
    expect(err.message).toMatch(/not a PNG or JPEG/);
    expect(decodeError(new Uint8Array(0)).code).toBe('invalid_image');
  });

  it('refuses other formats by name', () => {
    const gif = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
    expect(decodeError(gif).message).toMatch(/gif images are not supported/);
  });

  it('refuses a truncated PNG as damaged', () => {
    const bytes = png(40, 40, (x, y) => [(x * 7) % 256, (y * 13) % 256, 0, 255]);
    const err = decodeError(bytes.subarray(0, Math.floor(bytes.length / 2)));
    expect(err.code).toBe('invalid_image');
    expect(err.message).toMatch(/PNG is damaged/);
  });

  it('refuses a huge image from its header, before decoding it', () => {
    const bytes = Buffer.from(png(4, 4, () => [0, 0, 0, 255]));
    // IHDR: width and height are the big-endian words at bytes 16 and 20.
    bytes.writeUInt32BE(100_000, 16);
    bytes.writeUInt32BE(100_000, 20);
    const err = decodeError(bytes);
    expect(err.code).toBe('invalid_image');
    expect(err.message).toContain(`100000x100000; the largest accepted is ${MAX_SIDE}x${MAX_SIDE}`);
  });

  it('decodes data URLs and bare base64, and names what it refuses', () => {
    const bytes = png(2, 2, () => [0, 0, 0, 255]);
    expect(decodeDataUrl(`data:image/png;base64,${bytes.toString('base64')}`).width).toBe(2);
    expect(decodeDataUrl(bytes.toString('base64')).height).toBe(2);
    expect(() => decodeDataUrl('data:image/gif;base64,R0lGOD')).toThrow(
      /only PNG and JPEG data URLs/,
    );
    expect(() => decodeDataUrl('data:image/png;base64,***')).toThrow(/not valid base64/);
  });
});
