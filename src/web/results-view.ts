/**
 * The answer: the digit, large; its confidence; one bar per digit with its probability and
 * the votes of the 10 variants; the 28x28 the model saw; how long it took and where it ran.
 * Results are announced to screen readers through a polite live region.
 */
import { describeUncertainty } from '../core/unsure.ts';
import type { Recognition } from '../recognizer/recognizer.ts';

export interface Provenance {
  readonly where: 'server' | 'browser';
  /** The browser's tfjs backend ('wasm' or 'cpu'). */
  readonly backend?: string;
  /** Server only: request to answer, ms. */
  readonly roundTripMs?: number;
}

const BACKEND_NAMES: Record<string, string> = { wasm: 'WebAssembly', cpu: 'JavaScript' };

function percent(p: number): string {
  if (p >= 0.9995) return '100%';
  if (p >= 0.995) return `${(p * 100).toFixed(1)}%`;
  if (p > 0 && p < 0.005) return '<1%';
  return `${Math.round(p * 100)}%`;
}

function millis(ms: number): string {
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
}

interface Bar {
  readonly root: HTMLElement;
  readonly fill: HTMLElement;
  readonly value: HTMLElement;
  readonly votes: HTMLElement;
}

export class ResultsView {
  private readonly panel = byId('result-panel');
  private readonly digit = byId('result');
  private readonly confidence = byId('confidence');
  private readonly timing = byId('timing');
  private readonly chart = byId('probabilities');
  private readonly preview = byId<HTMLCanvasElement>('preview');
  private readonly announcer = byId('announcer');
  private readonly legend = byId('chart-legend');
  private readonly bars: Bar[] = [];

  constructor() {
    for (let d = 0; d < 10; d++) this.bars.push(this.makeBar(d));
    this.clear();
  }

  private makeBar(d: number): Bar {
    const root = document.createElement('div');
    root.className = 'bar';
    root.setAttribute('role', 'meter');
    root.setAttribute('aria-label', `Digit ${d}`);
    root.setAttribute('aria-valuemin', '0');
    root.setAttribute('aria-valuemax', '100');
    root.dataset.digit = String(d);
    const value = document.createElement('span');
    value.className = 'bar-value';
    const track = document.createElement('span');
    track.className = 'bar-track';
    const fill = document.createElement('span');
    fill.className = 'bar-fill';
    track.append(fill);
    const label = document.createElement('span');
    label.className = 'bar-label';
    label.textContent = String(d);
    const votes = document.createElement('span');
    votes.className = 'bar-votes';
    root.append(value, track, label, votes);
    this.chart.append(root);
    return { root, fill, value, votes };
  }

  /** Marks the shown answer as out of date while a new one is on its way. */
  setBusy(busy: boolean): void {
    this.panel.dataset.state = busy ? 'busy' : this.digit.textContent ? 'done' : 'idle';
    this.panel.setAttribute('aria-busy', String(busy));
  }

  clear(): void {
    this.digit.textContent = '';
    this.confidence.textContent = 'Draw a digit to see what the model reads.';
    this.confidence.classList.remove('unsure');
    this.timing.textContent = '';
    this.panel.dataset.state = 'idle';
    this.panel.removeAttribute('data-strokes');
    this.panel.dataset.reason = '';
    this.panel.setAttribute('aria-busy', 'false');
    for (const bar of this.bars) this.setBar(bar, 0, 0, 0, false);
    this.describeVotes(0);
    const ctx = this.preview.getContext('2d');
    if (ctx) {
      ctx.fillStyle = '#000';
      ctx.fillRect(0, 0, this.preview.width, this.preview.height);
    }
  }

  show(r: Recognition, from: Provenance, strokes: number): void {
    this.digit.textContent = String(r.digit);
    const doubt = describeUncertainty(r);
    this.confidence.textContent = doubt
      ? `${doubt} Best guess ${r.digit}, ${percent(r.confidence)} confidence.`
      : `${percent(r.confidence)} confidence`;
    this.confidence.classList.toggle('unsure', r.unsure);
    this.panel.dataset.reason = r.reason ?? '';
    this.timing.textContent = this.describeTiming(r, from);
    r.probabilities.forEach((p, d) =>
      this.setBar(this.bars[d], p, r.votes[d], r.variants, d === r.digit),
    );
    this.describeVotes(r.variants);
    this.drawPreview(r.input);
    this.panel.dataset.state = 'done';
    this.panel.dataset.strokes = String(strokes);
    this.panel.setAttribute('aria-busy', 'false');
    this.announce(
      doubt
        ? `${doubt} Best guess ${r.digit}, ${percent(r.confidence)} confidence.`
        : `Recognised ${r.digit}, ${percent(r.confidence)} confidence.`,
    );
  }

  announce(text: string): void {
    // Re-setting the same text would not be announced again; a fresh node is.
    this.announcer.textContent = '';
    const line = document.createElement('p');
    line.textContent = text;
    this.announcer.append(line);
  }

  /** The legend under the bars: what the small numbers are, or why there are none. */
  private describeVotes(variants: number): void {
    this.legend.replaceChildren();
    if (variants === 1) {
      this.legend.textContent = 'Combining is off: the drawing alone decides, without copies.';
      return;
    }
    const key = document.createElement('span');
    key.className = 'votes-key';
    key.setAttribute('aria-hidden', 'true');
    key.textContent = 'n';
    this.legend.append(
      key,
      `votes: how many of ${variants || 10} copies of the drawing, slightly shifted, scaled ` +
        'and rotated, chose that digit.',
    );
  }

  private describeTiming(r: Recognition, from: Provenance): string {
    if (from.where === 'browser') {
      const engine = BACKEND_NAMES[from.backend ?? ''] ?? from.backend ?? '';
      return `${millis(r.ms)} in your browser${engine ? ` (${engine})` : ''}`;
    }
    const trip = from.roundTripMs === undefined ? '' : ` · ${millis(from.roundTripMs)} round trip`;
    return `${millis(r.ms)} on the server${trip}`;
  }

  private setBar(bar: Bar, p: number, votes: number, variants: number, winner: boolean): void {
    const pct = Math.max(0, Math.min(100, p * 100));
    bar.fill.style.height = `${pct}%`;
    bar.value.textContent = p >= 0.01 ? percent(p) : '';
    bar.votes.textContent = votes > 0 && variants > 1 ? String(votes) : '';
    bar.root.classList.toggle('winner', winner);
    bar.root.setAttribute('aria-valuenow', pct.toFixed(1));
    bar.root.setAttribute(
      'aria-valuetext',
      variants > 1 ? `${percent(p)}, ${votes} of ${variants} votes` : percent(p),
    );
  }

  private drawPreview(input: readonly number[]): void {
    const ctx = this.preview.getContext('2d');
    if (!ctx) return;
    const side = Math.round(Math.sqrt(input.length));
    const image = ctx.createImageData(side, side);
    input.forEach((v, i) => {
      const level = Math.round(Math.max(0, Math.min(1, v)) * 255);
      image.data[i * 4] = level;
      image.data[i * 4 + 1] = level;
      image.data[i * 4 + 2] = level;
      image.data[i * 4 + 3] = 255;
    });
    ctx.putImageData(image, 0, 0);
  }
}
