/** The cost of a request, read from image headers before anything is decoded. */
import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.ts';
import { dataUrlHeader } from '../../src/node/decode.ts';
import { batchPixelsError, costOf, estimateCost } from '../../src/server/cost.ts';
import { dataUrl, drawDigit, pngClaiming, SEVEN } from '../api/images.ts';

function headerError(text: string): InputError {
  try {
    dataUrlHeader(text);
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  }
  throw new Error('the header was accepted');
}

/** A JPEG whose size (SOF) follows `padding` bytes of metadata (an APP1 segment). */
function jpegAfterMetadata(width: number, height: number, padding: number): Buffer {
  const data = Buffer.alloc(width * height * 4, 255);
  const plain = jpeg.encode({ data, width, height }, 90).data;
  const app1 = Buffer.alloc(4 + padding);
  app1.writeUInt16BE(0xffe1, 0);
  app1.writeUInt16BE(2 + padding, 2);
  return Buffer.concat([plain.subarray(0, 2), app1, plain.subarray(2)]);
}

describe('dataUrlHeader', () => {
  it("reads a PNG's size from its first kilobytes only", () => {
    const png = drawDigit(SEVEN, { size: 1024 }).png();
    expect(png.length).toBeGreaterThan(8192);
    // Damage past the header: decoding would fail, the header alone reads fine.
    const text = dataUrl(png);
    const damaged = `${text.slice(0, 5000)}!!!!${text.slice(5000)}`;
    expect(dataUrlHeader(damaged)).toEqual({ type: 'png', width: 1024, height: 1024 });
  });

  it("finds a JPEG's size behind long metadata, and takes bare base64", () => {
    const bytes = jpegAfterMetadata(40, 30, 20_000);
    expect(dataUrlHeader(dataUrl(bytes, 'image/jpeg'))).toEqual({
      type: 'jpg',
      width: 40,
      height: 30,
    });
    expect(dataUrlHeader(bytes.toString('base64'))).toMatchObject({ width: 40, height: 30 });
  });

  it('refuses an image over 2048x2048 from its header, and what is not a PNG or JPEG', () => {
    expect(headerError(dataUrl(pngClaiming(4096, 16))).message).toMatch(/4096x16.*2048x2048/);
    expect(headerError(dataUrl(pngClaiming(100_000, 100_000))).code).toBe('invalid_image');
    expect(headerError(Buffer.from('GIF89a not really').toString('base64')).code).toBe(
      'invalid_image',
    );
    expect(headerError('data:image/gif;base64,R0lGODlh').message).toMatch(/PNG and JPEG/);
  });
});

describe('costOf', () => {
  it('grows with the pixels and the variants', () => {
    const small = costOf({
      kind: 'image',
      image: dataUrl(drawDigit(SEVEN).png()),
      ensemble: 'vote',
    });
    const large = costOf({
      kind: 'image',
      image: dataUrl(drawDigit(SEVEN, { size: 2048 }).png()),
      ensemble: 'vote',
    });
    expect(small.pixels).toBe(280 * 280);
    expect(large.pixels).toBe(2048 * 2048);
    expect(large.cost).toBeGreaterThan(10 * small.cost);
    const pixels = new Float32Array(28 * 28);
    const vote = costOf({
      kind: 'pixels',
      pixels,
      width: 28,
      height: 28,
      ink: 'light',
      ensemble: 'vote',
    });
    const off = costOf({
      kind: 'pixels',
      pixels,
      width: 28,
      height: 28,
      ink: 'light',
      ensemble: 'off',
    });
    expect(vote.pixels).toBe(784);
    expect(off.cost).toBeLessThan(vote.cost);
    expect(estimateCost('jpg', 1e6, 10)).toBeGreaterThan(estimateCost('png', 1e6, 10));
  });

  it('throws invalid_image for an image its header refuses', () => {
    expect(() =>
      costOf({ kind: 'image', image: dataUrl(pngClaiming(3000, 3000)), ensemble: 'vote' }),
    ).toThrow(InputError);
  });
});

describe('batchPixelsError', () => {
  it('says how many megapixels the batch holds and the limit', () => {
    const item = {
      input: { kind: 'image', image: '', ensemble: 'vote' } as const,
      pixels: 4e6,
      cost: 1,
    };
    expect(batchPixelsError([item, item], 8e6)).toBeNull();
    expect(batchPixelsError([item, item, item], 8e6)).toMatch(
      /12\.0 megapixels.*8\.0 megapixels.*split/,
    );
  });
});
