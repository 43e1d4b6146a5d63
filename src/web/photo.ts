/**
 * A photo or a scan given to the page (a file, a drop, a paste), made ready to be read as the
 * pad's drawing is: decoded by the browser, turned upright (a phone's EXIF orientation),
 * scaled down to MAX_PHOTO_SIDE and painted on white (transparency is paper, as the server
 * composites it). The page imports this module only when a photo arrives.
 */
import { imageSize } from 'image-size';
import type { GrayBitmap } from '../core/preprocess.ts';
import { canvasGray } from './canvas-gray.ts';
import { fitWithin, sizeProblem, type Size } from './photo-fit.ts';

/** A file the page cannot read as a photo; the message says why, in the person's words. */
export class PhotoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PhotoError';
  }
}

export interface Photo {
  /** The file's name, to show with it. */
  readonly name: string;
  /** The photo as it is read: the reading's boxes are in this canvas's pixels. */
  readonly canvas: HTMLCanvasElement;
  /** The image's own size, upright, before it was scaled down. */
  readonly original: Size;
  /** The photo as the server's API takes an image: a data URL (as the pad's PNG is sent). */
  toDataUrl(): string;
  /** The photo's pixels in grayscale, as the in-browser recognizer takes them. */
  toGrayBitmap(): GrayBitmap;
}

/** Larger files are refused unread: no phone photo or scan of a page comes near it. */
const MAX_FILE_BYTES = 50 * 1024 * 1024;

/**
 * JPEG, as a camera's photo already is: a 1600-pixel photo is a few hundred kB rather than
 * the megabytes a PNG of its grain would be, over a phone's connection. High quality, so the
 * server reads nearly the pixels the browser would.
 */
const UPLOAD_QUALITY = 0.92;

export async function openPhoto(file: Blob, name: string): Promise<Photo> {
  const called = name ? `“${name}”` : 'The file';
  if (file.size === 0) throw new PhotoError(`${called} is empty.`);
  if (file.size > MAX_FILE_BYTES) {
    throw new PhotoError(
      `${called} is ${Math.round(file.size / 2 ** 20)} MB: pick an image of at most ` +
        `${MAX_FILE_BYTES / 2 ** 20} MB.`,
    );
  }
  // The header first: a small file can claim an image too large to decode.
  let header: Size;
  try {
    const { width = 0, height = 0 } = imageSize(new Uint8Array(await file.arrayBuffer()));
    header = { width, height };
  } catch {
    throw new PhotoError(`${called} is not an image: pick a photo or a scan (JPEG, PNG, …).`);
  }
  const problem = sizeProblem(header);
  if (problem) throw new PhotoError(problem);

  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch {
    throw new PhotoError(
      `${called} could not be opened: the image is damaged or incomplete, or of a kind this ` +
        'browser cannot show. Try a JPEG or PNG.',
    );
  }
  try {
    const original = { width: bitmap.width, height: bitmap.height };
    const size = fitWithin(original);
    const canvas = document.createElement('canvas');
    canvas.width = size.width;
    canvas.height = size.height;
    const ctx = canvas.getContext('2d', { alpha: false, willReadFrequently: true });
    if (!ctx) throw new PhotoError('This browser cannot draw the photo on a canvas.');
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, size.width, size.height);
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(bitmap, 0, 0, size.width, size.height);
    return {
      name,
      canvas,
      original,
      toDataUrl: () => canvas.toDataURL('image/jpeg', UPLOAD_QUALITY),
      toGrayBitmap: () => canvasGray(ctx),
    };
  } finally {
    bitmap.close();
  }
}
