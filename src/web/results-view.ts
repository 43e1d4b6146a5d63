/**
 * The answer: the digit, large; its confidence; one bar per digit with its probability and
 * the votes of the 10 variants; the 28x28 the model saw; how long it took and where it ran.
 * What it says is data (`describeAnswer`, tested without a page); `ResultsView` puts it on
 * the page by updating the elements it made once, so a later answer costs no new DOM.
 * Results are announced to screen readers through a polite live region.
 */
import { describeAdaptation } from '../core/adapt.ts';
import { describeUncertainty } from '../core/unsure.ts';
import type { Recognition } from '../recognizer/answers.ts';
import { byId } from './dom.ts';
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

/** How an answer is told beyond its recognition (a number's, around its picked digit). */
export interface AnswerOptions {
  /** The answer in large (a number's text); by default the digit. */
  readonly text?: string;
  /** What the confidence is of (a number's picked digit). */
  readonly label?: string;
  /** The time the whole answer took (a number's, not its digit's share), ms. */
  readonly ms?: number;
  /** A doubt of the whole drawing (not a number) that goes before the digit's own. */
  readonly doubt?: string;
  /** What a screen reader hears of the answer, before what the corrections did. */
  readonly announcement: string;
}

/** What the results view says of an answer. */
export interface AnswerText {
  readonly result: string;
  readonly confidence: string;
  /** The confidence is shown as a doubt. */
  readonly unsure: boolean;
  /** How the user's corrections changed the answer; null when they did not. */
  readonly adapted: string | null;
  /** The answer's `data-reason` on the panel: why it is unsure, or ''. */
  readonly reason: string;
  readonly timing: string;
  readonly announcement: string;
}

/** What the results view says of recognition `r`, answered `from` there, told as `options` say. */
export function describeAnswer(
  r: Recognition,
  from: Provenance,
  options: AnswerOptions,
): AnswerText {
  const doubt = options.doubt ?? describeUncertainty(r);
  const of = options.label ? `${options.label}: ` : '';
  const adapted = describeAdaptation(r);
  const { announcement } = options;
  return {
    result: options.text ?? String(r.digit),
    confidence: doubt
      ? `${of}${doubt} Best guess ${r.digit}, ${percent(r.confidence)} confidence.`
      : `${of}${percent(r.confidence)} confidence`,
    unsure: r.unsure || options.doubt !== undefined,
    adapted,
    reason: options.doubt ? 'not_a_number' : (r.reason ?? ''),
    timing: describeTiming(options.ms ?? r.ms, from),
    announcement: adapted ? `${announcement} ${of}${adapted}` : announcement,
  };
}

function describeTiming(ms: number, from: Provenance): string {
  if (from.where === 'browser') {
    const engine = from.backend ? engineName(from.backend) : '';
    return `${millis(ms)} in your browser${engine ? ` (${engine})` : ''}`;
  }
  const trip = from.roundTripMs === undefined ? '' : ` · ${millis(from.roundTripMs)} round trip`;
  return `${millis(ms)} on the server${trip}`;
}

/**
 * The legend under the bars: what the small numbers are, or why there are none (`combining`:
 * an ensemble was asked for, and a digit read surely at once was spared its copies).
 */
export function describeVotes(variants: number, adapted: boolean, combining: boolean): string {
  if (variants === 1) {
    return combining
      ? 'Both readers were sure of this digit of the number at once: no copies were needed.'
      : 'Combining is off: the drawing alone decides, without copies.';
  }
  return (
    `votes: how many of ${variants || 10} copies of the drawing, slightly shifted, scaled ` +
    `and rotated, chose that digit${adapted ? ', before your corrections' : ''}.`
  );
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
  private readonly bars: Bar[] = [];
  /** The legend's "n" (the look of a vote count) and its text, made once. */
  private readonly votesKey = document.createElement('span');
  private readonly legendText = document.createTextNode('');
  /** The 28x28 on the preview: the same one is not painted again. */
  private previewInput: readonly number[] | null = null;

  constructor() {
    for (let d = 0; d < 10; d++) this.bars.push(this.makeBar(d));
    this.votesKey.className = 'votes-key';
    this.votesKey.setAttribute('aria-hidden', 'true');
    this.votesKey.textContent = 'n';
    byId('chart-legend').replaceChildren(this.votesKey, this.legendText);
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
    this.showLegend(0, false, true);
    this.previewInput = null;
    const ctx = this.preview.getContext('2d');
    if (ctx) {
      ctx.fillStyle = '#000';
      ctx.fillRect(0, 0, this.preview.width, this.preview.height);
    }
  }

  /**
   * Shows recognition `r`, told as `text` says (see describeAnswer), of a drawing of
   * `strokes` strokes (browser tests wait for the answer to their drawing by it).
   */
  show(r: Recognition, text: AnswerText, strokes: number): void {
    this.digit.textContent = text.result;
    this.digit.classList.toggle('long', text.result.length > 1);
    this.confidence.textContent = text.confidence;
    this.confidence.classList.toggle('unsure', text.unsure);
    this.showAdaptation(text.adapted);
    this.panel.dataset.reason = text.reason;
    this.timing.textContent = text.timing;
    r.probabilities.forEach((p, d) =>
      this.setBar(this.bars[d], p, r.votes[d], r.variants, d === r.digit),
    );
    this.showLegend(r.variants, text.adapted !== null, r.ensemble !== 'off');
    if (r.input !== this.previewInput) {
      drawInput(this.preview, r.input);
      this.previewInput = r.input;
    }
    this.panel.dataset.state = 'done';
    this.panel.dataset.strokes = String(strokes);
    this.panel.setAttribute('aria-busy', 'false');
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

  private showLegend(variants: number, adapted: boolean, combining: boolean): void {
    this.votesKey.hidden = variants === 1;
    this.legendText.data = describeVotes(variants, adapted, combining);
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
