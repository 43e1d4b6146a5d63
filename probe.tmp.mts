import { writeFileSync } from 'node:fs';
import { createCanvas, loadImage } from '@napi-rs/canvas';
import { checkPhoto } from './test/e2e/paper-photo.ts';
const p = checkPhoto('2047');
const img = await loadImage(p.jpeg);
const c = createCanvas(1200, 450); c.getContext('2d').drawImage(img, 0, 0, 1200, 450);
writeFileSync('/tmp/check-2047.png', c.toBuffer('image/png'));
