/**
 * The answer: the digit, large; its confidence; one bar per digit with its probability and
 * the votes of the 10 variants; the 28x28 the model saw; how long it took and where it ran.
 * Results are announced to screen readers through a polite live region.
 */
import { describeAdaptation } from '../core/adapt.ts';
import { describeUncertainty } from '../core/unsure.ts';
import type { Recognition } from '../recognizer/answers.ts';
import type { BackendName } from './backend-choice.ts';
import { engineName } from './engine-name.ts';
import { millis, percent } from './format.ts';
import { drawInput } from './number-view.ts';

export interface Provenance {
  readonly where: 'server' | 'browser';
  /** The browser's tfjs backend. */
  readonly backend?: BackendName;
  /** Server only: request to answer, ms. */
  readonly roundTripMs?: number;
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
  private readonly adapted = byId('adapted');
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
    this.showAdaptation(null);
    this.timing.textContent = '';
    this.panel.dataset.state = 'idle';
    this.panel.removeAttribute('data-strokes');
    this.panel.dataset.reason = '';
    this.panel.setAttribute('aria-busy', 'false');
    for (const bar of this.bars) this.setBar(bar, 0, 0, 0, false);
    this.describeVotes(0, false, true);
    const ctx = this.preview.getContext('2d');
    if (ctx) {
      ctx.fillStyle = '#000';
      ctx.fillRect(0, 0, this.preview.width, this.preview.height);
    }
  }

  /**
   * Shows a recognition: `text` is the answer in large (a number's text; by default the
   * digit), `label` what the confidence is of (a number's picked digit), `announcement`
   * what a screen reader hears (nothing when only the picked digit changed), `ms` the time
   * the whole answer took (a number's, not its digit's share), `doubt` a doubt of the whole
   * drawing (not a number) that goes before the digit's own.
   */
  show(
    r: Recognition,
    from: Provenance,
    strokes: number,
    options: {
      text?: string;
      label?: string;
      announcement?: string;
      ms?: number;
      doubt?: string;
    } = {},
  ): void {
    this.digit.textContent = options.text ?? String(r.digit);
    this.digit.classList.toggle('long', this.digit.textContent.length > 1);
    const doubt = options.doubt ?? describeUncertainty(r);
    const of = options.label ? `${options.label}: ` : '';
    this.confidence.textContent = doubt
      ? `${of}${doubt} Best guess ${r.digit}, ${percent(r.confidence)} confidence.`
      : `${of}${percent(r.confidence)} confidence`;
    this.confidence.classList.toggle('unsure', r.unsure || options.doubt !== undefined);
    const learned = describeAdaptation(r);
    this.showAdaptation(learned);
    this.panel.dataset.reason = options.doubt ? 'not_a_number' : (r.reason ?? '');
    this.timing.textContent = this.describeTiming(options.ms ?? r.ms, from);
    r.probabilities.forEach((p, d) =>
      this.setBar(this.bars[d], p, r.votes[d], r.variants, d === r.digit),
    );
    this.describeVotes(r.variants, learned !== null, r.ensemble !== 'off');
    drawInput(this.preview, r.input);
    this.panel.dataset.state = 'done';
    this.panel.dataset.strokes = String(strokes);
    this.panel.setAttribute('aria-busy', 'false');
    const announcement =
      options.announcement ??
      (doubt
        ? `${doubt} Best guess ${r.digit}, ${percent(r.confidence)} confidence.`
        : `Recognised ${r.digit}, ${percent(r.confidence)} confidence.`);
    if (announcement) this.announce(learned ? `${announcement} ${of}${learned}` : announcement);
  }

  /** Says when the user's corrections changed the answer (the votes are the model's own). */
  private showAdaptation(text: string | null): void {
    this.adapted.textContent = text ?? '';
    this.adapted.hidden = text === null;
  }

  announce(text: string): void {
    // Re-setting the same text would not be announced again; a fresh node is.
    this.announcer.textContent = '';
    const line = document.createElement('p');
    line.textContent = text;
    this.announcer.append(line);
  }

  /** The legend under the bars: what the small numbers are, or why there are none. */
  private describeVotes(variants: number, adapted: boolean, combining: boolean): void {
    this.legend.replaceChildren();
    if (variants === 1) {
      this.legend.textContent = combining
        ? 'Both readers were sure of this digit of the number at once: no copies were needed.'
        : 'Combining is off: the drawing alone decides, without copies.';
      return;
    }
    const key = document.createElement('span');
    key.className = 'votes-key';
    key.setAttribute('aria-hidden', 'true');
    key.textContent = 'n';
    this.legend.append(
      key,
      `votes: how many of ${variants || 10} copies of the drawing, slightly shifted, scaled ` +
        `and rotated, chose that digit${adapted ? ', before your corrections' : ''}.`,
    );
  }

  private describeTiming(ms: number, from: Provenance): string {
    if (from.where === 'browser') {
      const engine = from.backend ? engineName(from.backend) : '';
      return `${millis(ms)} in your browser${engine ? ` (${engine})` : ''}`;
    }
    const trip = from.roundTripMs === undefined ? '' : ` · ${millis(from.roundTripMs)} round trip`;
    return `${millis(ms)} on the server${trip}`;
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
}
