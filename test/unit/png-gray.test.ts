import { deflateSync } from 'node:zlib';
import { PNG, type ColorType } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { rgbaToGray } from '../../src/core/gray.ts';
import { decodeImage } from '../../src/node/decode.ts';
import { decodePngGray } from '../../src/node/png-gray.ts';

/** A busy RGBA test card: gradients, hard edges and varying alpha, so every filter gets used. */
function card(width: number, height: number): PNG {
  const image = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const edge = (x * 7 + y * 3) % 23 < 9;
      image.data[i] = (x * 11 + y * 5) % 256;
      image.data[i + 1] = edge ? 250 : (y * 17) % 256;
      image.data[i + 2] = (x * y) % 256;
      image.data[i + 3] = x < 3 ? 0 : edge ? 255 : (x * 29 + y) % 256;
    }
  }
  return image;
}

/** The same picture as PNG bytes of the given colour type and row filter. */
function encode(image: PNG, colorType: ColorType, filterType: number, bitDepth: 8 | 16 = 8) {
  return PNG.sync.write(image, { colorType, filterType, bitDepth, inputHasAlpha: true });
}

/** What pngjs reads from the bytes, to gray: the reference the fast path must equal. */
function reference(bytes: Buffer) {
  const png = PNG.sync.read(bytes);
  return rgbaToGray(png.data, png.width, png.height);
}

/** `bytes` with its IDAT chunk's data replaced by `raw`, deflated (the CRC is left stale). */
function withImageData(bytes: Buffer, raw: Buffer): Buffer {
  const at = bytes.indexOf('IDAT') - 4;
  const length = bytes.readUInt32BE(at);
  const idat = deflateSync(raw);
  const chunk = Buffer.alloc(12 + idat.length);
  chunk.writeUInt32BE(idat.length, 0);
  chunk.write('IDAT', 4, 'ascii');
  idat.copy(chunk, 8);
  return Buffer.concat([bytes.subarray(0, at), chunk, bytes.subarray(at + 12 + length)]);
}

describe('decodePngGray', () => {
  const image = card(37, 19);
  for (const colorType of [0, 2, 4, 6] as const) {
    for (const filterType of [0, 1, 2, 3, 4, -1]) {
      it(`equals pngjs + rgbaToGray for colour type ${colorType}, filter ${filterType}`, () => {
        const bytes = encode(image, colorType, filterType);
        const fast = decodePngGray(bytes);
        expect(fast).not.toBeNull();
        const ref = reference(bytes);
        expect(fast!.width).toBe(37);
        expect(fast!.height).toBe(19);
        expect(Array.from(fast!.data)).toEqual(Array.from(ref.data));
      });
    }
  }

  it('leaves 16-bit PNGs to pngjs, and decodeImage still reads them', () => {
    const bytes = encode(image, 6, -1, 16);
    expect(decodePngGray(bytes)).toBeNull();
    expect(Array.from(decodeImage(bytes).data)).toEqual(Array.from(reference(bytes).data));
  });

  it('refuses a PNG cut short, and one whose data is shorter than its header says', () => {
    const bytes = encode(image, 6, -1);
    expect(() => decodePngGray(bytes.subarray(0, bytes.length - 30))).toThrow(/PNG is damaged/);
    const taller = Buffer.from(bytes);
    taller.writeUInt32BE(40, 20); // height 19 -> 40; the CRC is not checked on this path
    expect(() => decodePngGray(taller)).toThrow(/PNG is damaged/);
  });

  it('refuses an unknown row filter', () => {
    const small = new PNG({ width: 2, height: 2 });
    small.data.fill(200);
    // Two rows of a filter byte and 2 RGBA pixels; the first row's filter is 9.
    const raw = Buffer.alloc(2 * (1 + 8), 200);
    raw[0] = 9;
    raw[9] = 0;
    expect(() => decodePngGray(withImageData(PNG.sync.write(small), raw))).toThrow(
      /unknown row filter 9/,
    );
  });

  it('refuses image data that inflates past its header (a decompression bomb)', () => {
    const bomb = withImageData(encode(image, 6, 0), Buffer.alloc(50_000_000));
    expect(() => decodePngGray(bomb)).toThrow(/PNG is damaged/);
  });
});
