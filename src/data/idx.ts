/**
 * Reader for the IDX files MNIST ships in (http://yann.lecun.com/exdb/mnist/): a big-endian
 * header with a magic number that gives the element type and rank, the sizes, then raw bytes.
 */
import { readFile } from 'node:fs/promises';

export class IdxError extends Error {
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.name = 'IdxError';
  }
}

export interface IdxArray {
  readonly shape: number[];
  readonly data: Uint8Array;
}

const UNSIGNED_BYTE = 0x08;

/** Parses an unsigned-byte IDX buffer of the expected rank; `file` names it in errors. */
export function parseIdx(bytes: Uint8Array, rank: number, file = 'IDX data'): IdxArray {
  const headerSize = 4 + 4 * rank;
  if (bytes.length < headerSize) {
    throw new IdxError(file, `too short for an IDX header (${bytes.length} bytes)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  const expected = (UNSIGNED_BYTE << 8) | rank;
  if (magic !== expected) {
    throw new IdxError(
      file,
      `bad magic number 0x${magic.toString(16).padStart(8, '0')}, expected 0x${expected
        .toString(16)
        .padStart(8, '0')} (unsigned bytes, rank ${rank}); is this the right file?`,
    );
  }
  const shape = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const size = shape.reduce((a, b) => a * b, 1);
  const actual = bytes.length - headerSize;
  if (actual !== size) {
    throw new IdxError(
      file,
      `header promises ${shape.join('x')} = ${size} bytes of data but the file has ${actual}` +
        (actual < size ? ' (truncated download?)' : ''),
    );
  }
  return { shape, data: bytes.subarray(headerSize) };
}

export async function readIdx(path: string, rank: number): Promise<IdxArray> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : `cannot read it (${code ?? String(err)})`;
    throw new IdxError(path, why);
  }
  return parseIdx(bytes, rank, path);
}
