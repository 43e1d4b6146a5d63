/**
 * Where a photo is shown: in place of the pad, scaled to fit the card, with a layer over it
 * that holds the digits' boxes (the number view draws them there, in percent of the photo, so
 * they follow it at any displayed size).
 */
import type { Photo } from './photo.ts';

export interface PhotoView {
  /** The layer over the shown photo for the digits' boxes. */
  readonly overlay: HTMLElement;
  show(photo: Photo): void;
  hide(): void;
}

export function mountPhotoView(elements: {
  readonly view: HTMLElement;
  readonly stage: HTMLElement;
  readonly overlay: HTMLElement;
  readonly caption: HTMLElement;
}): PhotoView {
  const { view, stage, overlay, caption } = elements;
  return {
    overlay,
    show(photo) {
      const { canvas, original, name } = photo;
      canvas.className = 'photo';
      canvas.dataset.testid = 'photo';
      canvas.setAttribute('role', 'img');
      canvas.setAttribute('aria-label', `The photo ${name}`);
      // The stage takes the photo's shape, so the boxes' percentages land on the photo.
      stage.style.setProperty('--photo-ratio', String(canvas.width / canvas.height));
      stage.replaceChildren(canvas, overlay);
      overlay.replaceChildren();
      const scaled =
        original.width === canvas.width ? '' : `, read at ${canvas.width}×${canvas.height}`;
      caption.textContent = `${name} (${original.width}×${original.height}${scaled}). Clear goes back to the pad.`;
      view.hidden = false;
    },
    hide() {
      view.hidden = true;
      stage.replaceChildren(overlay);
      overlay.replaceChildren();
      caption.textContent = '';
    },
  };
}
