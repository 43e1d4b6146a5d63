/**
 * The work each client sent in the last minute (images and pixels, as admitted), for the
 * rate limit by work and for the per-client figures in /metrics. The request-count limit
 * (RATE_LIMIT) lets one client send 256 full-size images per request; this one bounds what
 * those requests cost.
 *
 * Per client, two fixed one-minute windows give a sliding estimate of the last 60 s (the
 * previous window's count weighted by how much of it is still within the minute, plus the
 * current one's), as proxies and API gateways count rates: constant memory per client, no
 * timers. Clients not seen for two minutes are forgotten, and at most `maxClients` are kept
 * (the least recently active go first), so a spray of addresses cannot grow memory.
 */
import type { Refusal } from './scheduler.ts';

export interface WorkBudget {
  /** Images a minute per client; 0 = no limit. */
  readonly images: number;
  /** Pixels a minute per client; 0 = no limit. */
  readonly pixels: number;
}

interface Counts {
  images: number;
  pixels: number;
}

interface ClientWindow {
  start: number;
  current: Counts;
  previous: Counts;
}

const MINUTE = 60_000;
const zero = (): Counts => ({ images: 0, pixels: 0 });

export interface ClientWork {
  readonly client: string;
  readonly images: number;
  readonly pixels: number;
}

export class WorkLedger {
  private readonly windows = new Map<string, ClientWindow>();

  constructor(
    readonly budget: WorkBudget,
    private readonly now: () => number = Date.now,
    private readonly maxClients = 10_000,
  ) {}

  get limited(): boolean {
    return this.budget.images > 0 || this.budget.pixels > 0;
  }

  /** The client's window moved on to `now` (without recording anything). */
  private windowOf(client: string, now: number): ClientWindow | undefined {
    const window = this.windows.get(client);
    if (!window) return undefined;
    const elapsed = now - window.start;
    if (elapsed >= MINUTE) {
      const windows = Math.floor(elapsed / MINUTE);
      window.previous = windows === 1 ? window.current : zero();
      window.current = zero();
      window.start += windows * MINUTE;
    }
    return window;
  }

  /** The sliding estimate of the client's work in the 60 s before `now`. */
  private estimate(window: ClientWindow, now: number): Counts {
    const elapsed = now - window.start;
    if (elapsed >= 2 * MINUTE) return zero();
    if (elapsed >= MINUTE) {
      const weight = 1 - (elapsed - MINUTE) / MINUTE;
      return {
        images: window.current.images * weight,
        pixels: window.current.pixels * weight,
      };
    }
    const weight = 1 - elapsed / MINUTE;
    return {
      images: window.previous.images * weight + window.current.images,
      pixels: window.previous.pixels * weight + window.current.pixels,
    };
  }

  /** Work of the client in the last minute (estimated). */
  recent(client: string): Counts {
    const now = this.now();
    const window = this.windowOf(client, now);
    return window ? this.estimate(window, now) : zero();
  }

  private over(counts: Counts): boolean {
    const { images, pixels } = this.budget;
    return (images > 0 && counts.images >= images) || (pixels > 0 && counts.pixels >= pixels);
  }

  /**
   * 429 if the client has used its budget of the last minute. A request is let through while
   * any budget is left, whatever its size, and counted whole: a large batch then delays the
   * client's next requests instead of being refused for ever.
   */
  refusal(client: string): Refusal | null {
    if (!this.limited) return null;
    const now = this.now();
    const window = this.windowOf(client, now);
    if (!window || !this.over(this.estimate(window, now))) return null;
    // The estimate only falls as time passes: find the first second it is under budget.
    let wait = 1;
    while (wait < 120 && this.over(this.estimate(window, now + wait * 1000))) wait++;
    const parts = [
      this.budget.images > 0 ? `${this.budget.images} images` : '',
      this.budget.pixels > 0 ? `${Math.round(this.budget.pixels / 1e6)} megapixels` : '',
    ].filter(Boolean);
    return {
      status: 429,
      code: 'rate_limited',
      reason: 'work_rate',
      message: `too much work from this client: at most ${parts.join(' and ')} a minute; retry in ${wait} s`,
      retryAfter: wait,
    };
  }

  /** Records admitted work. */
  charge(client: string, images: number, pixels: number): void {
    const now = this.now();
    let window = this.windowOf(client, now);
    if (window) {
      this.windows.delete(client); // re-inserted last: the map stays in order of activity
    } else {
      window = { start: now, current: zero(), previous: zero() };
      if (this.windows.size >= this.maxClients) this.forgetOldest(now);
    }
    window.current.images += images;
    window.current.pixels += pixels;
    this.windows.set(client, window);
  }

  private forgetOldest(now: number): void {
    for (const [client, window] of this.windows) {
      // Oldest activity first: drop the idle ones, and at least one to make room.
      if (now - window.start < 2 * MINUTE && this.windows.size < this.maxClients) return;
      this.windows.delete(client);
    }
  }

  /** Clients with work in the last minute. */
  get activeClients(): number {
    const now = this.now();
    let n = 0;
    for (const window of this.windows.values()) if (this.estimate(window, now).images > 0) n++;
    return n;
  }

  /** The `n` clients with the most pixels in the last minute, heaviest first. */
  top(n: number): ClientWork[] {
    const now = this.now();
    const all: ClientWork[] = [];
    for (const [client, window] of this.windows) {
      const counts = this.estimate(window, now);
      if (counts.images > 0) all.push({ client, ...counts });
    }
    return all.sort((a, b) => b.pixels - a.pixels || b.images - a.images).slice(0, n);
  }
}
