/**
 * Instances of `npm run serve` on free ports, restarted one at a time as an operator (or a
 * Kubernetes rollout) does: SIGTERM to the instance's whole process group, wait for it to
 * exit, start it again on the same port, wait for /healthz 200, then the next. Used by the
 * fleet test and bench:rolling.
 */
import { freePort } from './postgres.ts';
import {
  killAllStarted,
  killGroup,
  startServe,
  waitHealthy,
  type ServeProcess,
} from './serve-process.ts';

export interface RestartTiming {
  readonly instance: number;
  /** From SIGTERM to the old process group's exit (the drain). */
  readonly drainMs: number;
  readonly exitCode: number | null;
  /** From spawning `npm run serve` to /healthz 200. */
  readonly startToHealthyMs: number;
}

export interface FleetOptions {
  /** Where `npm run serve` runs (the project, or a production copy of it). */
  readonly dir: string;
  readonly size: number;
  /** Environment of every instance (PORT and HOST are set per instance). */
  readonly env: Record<string, string>;
}

export class Fleet {
  readonly instances: ServeProcess[] = [];
  /** Spawn-to-healthy of every start, the first ones included. */
  readonly startToHealthyMs: number[] = [];

  private constructor(
    private readonly options: FleetOptions,
    readonly ports: readonly number[],
  ) {}

  static async start(options: FleetOptions): Promise<Fleet> {
    const ports: number[] = [];
    while (ports.length < options.size) {
      const port = await freePort();
      if (!ports.includes(port)) ports.push(port);
    }
    const fleet = new Fleet(options, ports);
    try {
      const started = await Promise.all(ports.map((_, i) => fleet.launch(i)));
      started.forEach((instance, i) => (fleet.instances[i] = instance));
    } catch (err) {
      killAllStarted();
      throw err;
    }
    return fleet;
  }

  urlOf(i: number): string {
    return `http://127.0.0.1:${this.ports[i]}`;
  }

  private async launch(i: number): Promise<ServeProcess> {
    const instance = await startServe({
      command: ['npm', 'run', 'serve'],
      cwd: this.options.dir,
      env: { ...this.options.env, PORT: String(this.ports[i]), HOST: '127.0.0.1' },
    });
    const healthyMs = await waitHealthy(instance.url);
    this.startToHealthyMs.push(instance.listeningMs + healthyMs);
    return instance;
  }

  /** Stops instance `i` as a container runtime would, starts it again, waits until healthy. */
  async restart(i: number): Promise<RestartTiming> {
    const old = this.instances[i];
    const signalled = performance.now();
    killGroup(old.pgid, 'SIGTERM');
    const { code } = await old.exit;
    const drainMs = performance.now() - signalled;
    this.instances[i] = await this.launch(i);
    return {
      instance: i,
      drainMs,
      exitCode: code,
      startToHealthyMs: this.startToHealthyMs.at(-1)!,
    };
  }

  /** Restarts every instance, one after the other. */
  async rollingRestart(): Promise<RestartTiming[]> {
    const timings: RestartTiming[] = [];
    for (let i = 0; i < this.instances.length; i++) timings.push(await this.restart(i));
    return timings;
  }

  /** SIGTERM to every instance; resolves with their exit codes. */
  async stop(): Promise<(number | null)[]> {
    for (const instance of this.instances) killGroup(instance.pgid, 'SIGTERM');
    return Promise.all(this.instances.map(async (instance) => (await instance.exit).code));
  }
}

/** The sum of one Prometheus counter over its label sets, those whose labels include `having`. */
export function counterTotal(metrics: string, name: string, having = ''): number {
  let total = 0;
  for (const match of metrics.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, 'gm'))) {
    if ((match[1] ?? '').includes(having)) total += Number(match[2]);
  }
  return total;
}
