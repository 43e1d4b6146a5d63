/**
 * Where photos come from: the "Read a photo" file input (a phone offers its camera), an image
 * file dropped on the pad's card, or an image pasted (Ctrl+V) anywhere on the page.
 */

export function listenForPhotos(options: {
  readonly input: HTMLInputElement;
  /** Where a dropped file is read; it has the class `dropping` while a file is over it. */
  readonly dropZone: HTMLElement;
  readonly onFile: (file: File) => void;
}): void {
  const { input, dropZone, onFile } = options;

  input.addEventListener('change', () => {
    const file = input.files?.[0];
    // Emptied, so that picking the same file again is a change too.
    input.value = '';
    if (file) onFile(file);
  });

  const carriesFiles = (e: DragEvent) => e.dataTransfer?.types.includes('Files') ?? false;
  for (const type of ['dragenter', 'dragover'] as const) {
    dropZone.addEventListener(type, (e) => {
      if (!carriesFiles(e)) return;
      e.preventDefault();
      e.dataTransfer!.dropEffect = 'copy';
      dropZone.classList.add('dropping');
    });
  }
  dropZone.addEventListener('dragleave', (e) => {
    if (!dropZone.contains(e.relatedTarget as Node | null)) dropZone.classList.remove('dropping');
  });
  dropZone.addEventListener('drop', (e) => {
    dropZone.classList.remove('dropping');
    const files = Array.from(e.dataTransfer?.files ?? []);
    if (files.length === 0) return;
    e.preventDefault();
    // The first image of several; a lone file of another kind is given its own message.
    onFile(files.find((f) => f.type.startsWith('image/')) ?? files[0]);
  });
  // A file dropped beside the zone would make the browser open it in place of the page, and
  // the drawing would be lost.
  for (const type of ['dragover', 'drop'] as const) {
    document.addEventListener(type, (e) => {
      if (carriesFiles(e) && !dropZone.contains(e.target as Node | null)) e.preventDefault();
    });
  }

  document.addEventListener('paste', (e) => {
    const image = Array.from(e.clipboardData?.files ?? []).find((f) => f.type.startsWith('image/'));
    if (!image) return;
    e.preventDefault();
    onFile(image);
  });
}
