/**
 * The drawing pad: a canvas drawn on with Pointer Events (mouse, touch and pen alike).
 * Strokes are kept as point lists in pad-relative coordinates (0..1), so Undo removes one
 * stroke and a resize (a phone turned sideways) redraws the same digit. Black round
 * strokes on white, a pen-like brush (core/brush.ts), a backing store at the screen's pixel ratio.
 */
import { brushWidth } from '../core/brush.ts';
import type { GrayBitmap } from '../core/preprocess.ts';
import { canvasGray } from './canvas-gray.ts';

export interface Point {
  readonly x: number;
  readonly y: number;
}
export type Stroke = Point[];

export interface PadEvents {
  /** A stroke began (the pen touched the pad). */
  onStrokeStart?: () => void;
  /** A stroke ended (the pen was lifted). */
  onStrokeEnd?: () => void;
  /** Strokes were removed (Undo or Clear). */
  onErase?: () => void;
}

/** Backing-store pixels per CSS pixel, at most (and never over the API's 2048 px limit). */
const MAX_PIXEL_RATIO = 3;
const MAX_BACKING_SIDE = 2048;
/** Points closer than this (in CSS px) to the previous one add nothing to the curve. */
const MIN_STEP_CSS_PX = 0.75;

/** A rectangle of the pad's backing store, in pixels. */
export interface PadCrop {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export class DrawingPad {
  private strokes: Stroke[] = [];
  private current: Stroke | null = null;
  private pointerId: number | null = null;
  private frame = 0;
  /** Backing-store pixels per CSS pixel. */
  private ratio = 1;
  private readonly ctx: CanvasRenderingContext2D;

  constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly events: PadEvents = {},
  ) {
    const ctx = canvas.getContext('2d', { alpha: false, willReadFrequently: true });
    if (!ctx) throw new Error('this browser cannot draw on a canvas');
    this.ctx = ctx;
    canvas.style.touchAction = 'none';
    canvas.addEventListener('pointerdown', (e) => this.down(e));
    canvas.addEventListener('pointermove', (e) => this.move(e));
    canvas.addEventListener('pointerup', (e) => this.up(e));
    canvas.addEventListener('pointercancel', (e) => this.up(e));
    canvas.addEventListener('lostpointercapture', (e) => this.up(e));
    // Belt and braces for browsers that scroll or zoom despite touch-action: none.
    const stop = (e: Event) => e.preventDefault();
    canvas.addEventListener('touchstart', stop, { passive: false });
    canvas.addEventListener('touchmove', stop, { passive: false });
    canvas.addEventListener('contextmenu', stop);
    new ResizeObserver(() => this.resize()).observe(canvas);
    this.resize();
  }

  get isEmpty(): boolean {
    return this.strokes.length === 0 && this.current === null;
  }

  get strokeCount(): number {
    return this.strokes.length;
  }

  get isDrawing(): boolean {
    return this.current !== null;
  }

  undo(): void {
    if (this.current) this.cancelStroke();
    else if (this.strokes.pop() === undefined) return;
    this.render();
    this.events.onErase?.();
  }

  clear(): void {
    if (this.isEmpty) return;
    this.cancelStroke();
    this.strokes = [];
    this.render();
    this.events.onErase?.();
  }

  /** The strokes drawn, the one being drawn included. */
  private allStrokes(): Stroke[] {
    return this.current ? [...this.strokes, this.current] : this.strokes;
  }

  /** The pen's width in backing-store pixels (core/brush.ts, for the pad's CSS height). */
  private brushPx(): number {
    return brushWidth(this.canvas.height / this.ratio) * this.ratio;
  }

  /**
   * The part of the pad that holds ink, with a margin of white, in backing-store pixels; null
   * when it is empty. Only this part is read: the recognizer crops to the ink first anyway, and
   * taking, encoding and sending the whole pad cost more than reading the digit (a 1000x400
   * pad: 5-17 ms to take its pixels, 32 ms to encode it as a PNG on a phone).
   */
  inkCrop(): PadCrop | null {
    const all = this.allStrokes();
    if (all.length === 0) return null;
    const { width, height } = this.canvas;
    const margin = Math.ceil(this.brushPx()) + 4;
    let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
    for (const p of all.flat()) {
      x0 = Math.min(x0, p.x * width);
      y0 = Math.min(y0, p.y * height);
      x1 = Math.max(x1, p.x * width);
      y1 = Math.max(y1, p.y * height);
    }
    const x = Math.max(0, Math.floor(x0 - margin));
    const y = Math.max(0, Math.floor(y0 - margin));
    const crop = {
      x,
      y,
      width: Math.min(width, Math.ceil(x1 + margin)) - x,
      height: Math.min(height, Math.ceil(y1 + margin)) - y,
    };
    // Ink off the pad (it was resized away): read the pad whole.
    return crop.width > 0 && crop.height > 0 ? crop : null;
  }

  /** The pad (or its part `crop`) as a PNG data URL: black ink on opaque white. */
  toPngDataUrl(crop: PadCrop | null = null): string {
    this.render();
    if (!crop) return this.canvas.toDataURL('image/png');
    const part = document.createElement('canvas');
    part.width = crop.width;
    part.height = crop.height;
    part.getContext('2d')!.drawImage(this.canvas, -crop.x, -crop.y);
    return part.toDataURL('image/png');
  }

  /** The pad's pixels (or those of its part `crop`) in grayscale, 0..255, as the server decodes the PNG. */
  toGrayBitmap(crop: PadCrop | null = null): GrayBitmap {
    this.render();
    return canvasGray(this.ctx, crop ?? undefined);
  }

  private point(e: PointerEvent): Point {
    const rect = this.canvas.getBoundingClientRect();
    return { x: (e.clientX - rect.left) / rect.width, y: (e.clientY - rect.top) / rect.height };
  }

  private down(e: PointerEvent): void {
    // One pen at a time; a second finger neither draws nor zooms. Mouse: left button only.
    if (this.pointerId !== null || (e.pointerType === 'mouse' && e.button !== 0)) return;
    if (e.button > 0 && e.pointerType === 'pen') return; // the eraser end, a barrel button
    e.preventDefault();
    this.pointerId = e.pointerId;
    try {
      this.canvas.setPointerCapture(e.pointerId);
    } catch {
      // Synthetic or already released pointers cannot be captured; drawing still works.
    }
    this.current = [this.point(e)];
    this.events.onStrokeStart?.();
    this.schedule();
  }

  private move(e: PointerEvent): void {
    if (e.pointerId !== this.pointerId || !this.current) return;
    e.preventDefault();
    const events = typeof e.getCoalescedEvents === 'function' ? e.getCoalescedEvents() : [];
    for (const ev of events.length ? events : [e]) this.add(this.point(ev));
    this.schedule();
  }

  private up(e: PointerEvent): void {
    if (e.pointerId !== this.pointerId || !this.current) return;
    if (e.type === 'pointerup') this.add(this.point(e));
    this.strokes.push(this.current);
    this.current = null;
    this.pointerId = null;
    this.render();
    this.events.onStrokeEnd?.();
  }

  private add(p: Point): void {
    const stroke = this.current!;
    const last = stroke[stroke.length - 1];
    const rect = this.canvas.getBoundingClientRect();
    const dist = Math.hypot((p.x - last.x) * rect.width, (p.y - last.y) * rect.height);
    if (dist >= MIN_STEP_CSS_PX) stroke.push(p);
  }

  private cancelStroke(): void {
    if (this.pointerId !== null && this.canvas.hasPointerCapture(this.pointerId)) {
      this.canvas.releasePointerCapture(this.pointerId);
    }
    this.current = null;
    this.pointerId = null;
  }

  private resize(): void {
    const rect = this.canvas.getBoundingClientRect();
    if (rect.width === 0 || rect.height === 0) return;
    const ratio = Math.min(
      window.devicePixelRatio || 1,
      MAX_PIXEL_RATIO,
      MAX_BACKING_SIDE / Math.max(rect.width, rect.height),
    );
    this.ratio = ratio;
    const width = Math.round(rect.width * ratio);
    const height = Math.round(rect.height * ratio);
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    this.render();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  /** Redraws every stroke: white paper, then round black ink. */
  private render(): void {
    if (this.frame) {
      cancelAnimationFrame(this.frame);
      this.frame = 0;
    }
    const { ctx } = this;
    const { width, height } = this.canvas;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, width, height);
    const brush = this.brushPx();
    ctx.fillStyle = '#000';
    ctx.strokeStyle = '#000';
    ctx.lineWidth = brush;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    for (const stroke of this.allStrokes()) {
      const pts = stroke.map((p) => ({ x: p.x * width, y: p.y * height }));
      if (pts.length === 1) {
        ctx.beginPath();
        ctx.arc(pts[0].x, pts[0].y, brush / 2, 0, 2 * Math.PI);
        ctx.fill();
        continue;
      }
      // A smooth curve: straight to the first midpoint, then quadratic curves through the
      // midpoints with the recorded points as control points, straight to the last point.
      ctx.beginPath();
      ctx.moveTo(pts[0].x, pts[0].y);
      for (let i = 1; i < pts.length - 1; i++) {
        const mx = (pts[i].x + pts[i + 1].x) / 2;
        const my = (pts[i].y + pts[i + 1].y) / 2;
        ctx.quadraticCurveTo(pts[i].x, pts[i].y, mx, my);
      }
      const last = pts[pts.length - 1];
      ctx.lineTo(last.x, last.y);
      ctx.stroke();
    }
  }
}
