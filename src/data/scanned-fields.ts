/**
 * Scanned fields of real paper with the digits written in them: a folder holding
 * `labels.tsv` (`path<TAB>digits` per line, paths relative to the folder; separators are
 * not in the label, as the field's benchmark scores a reading) and the images. The
 * development checks (ORAND-CAR-A) are such a folder: `../shared/data/orand-car-a-dev`.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ScannedField {
  /** The image's path inside the folder. */
  readonly path: string;
  /** The digits written, left to right. */
  readonly digits: string;
}

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** `../shared/data/orand-car-a-dev` beside the repository. */
export function defaultChecksDir(): string {
  return resolve(REPO_ROOT, '../shared/data/orand-car-a-dev');
}

/** The fields a folder's labels.tsv lists; throws on a line that is not `path<TAB>digits`. */
export async function loadScannedFields(dir: string): Promise<ScannedField[]> {
  const text = await readFile(join(dir, 'labels.tsv'), 'utf8');
  return text
    .split('\n')
    .map((line, i) => ({ line: line.trim(), number: i + 1 }))
    .filter(({ line }) => line !== '')
    .map(({ line, number }) => {
      const [path, digits, ...rest] = line.split('\t');
      if (!path || !digits || rest.length > 0 || !/^\d+$/.test(digits))
        throw new Error(`${join(dir, 'labels.tsv')}:${number}: expected "path<TAB>digits"`);
      return { path, digits };
    });
}

/** The image of one field. */
export function readField(dir: string, field: ScannedField): Promise<Buffer> {
  return readFile(join(dir, field.path));
}
