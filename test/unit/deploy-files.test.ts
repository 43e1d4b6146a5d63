/**
 * The deploy files cannot be tried here (no cluster, no container engine), so their
 * structure is checked against what the server needs: the Kubernetes manifests (probes,
 * drain, resources, secrets, autoscaling), the Dockerfile (stages, user, health check, a
 * start command equal to `npm run serve`) and .env.example (every variable the server reads).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const K8S = join(ROOT, 'deploy', 'kubernetes');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: Record<string, unknown>;
}

/** Every document of every YAML file in deploy/kubernetes, by kind. */
function manifests(): Map<string, Manifest> {
  const byKind = new Map<string, Manifest>();
  for (const file of readdirSync(K8S).filter((name) => name.endsWith('.yaml'))) {
    for (const doc of parseAllDocuments(readFileSync(join(K8S, file), 'utf8'))) {
      expect(doc.errors, file).toEqual([]);
      const manifest = doc.toJS() as Manifest;
      expect(byKind.has(manifest.kind), `${manifest.kind} defined twice`).toBe(false);
      byKind.set(manifest.kind, manifest);
    }
  }
  return byKind;
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } };
}
interface Probe {
  httpGet: { path: string; port: string | number };
  periodSeconds: number;
  failureThreshold: number;
}
interface Container {
  name: string;
  image: string;
  ports: { name: string; containerPort: number }[];
  env: EnvVar[];
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  readinessProbe: Probe;
  livenessProbe: Probe;
}
interface PodSpec {
  terminationGracePeriodSeconds: number;
  securityContext: { runAsNonRoot: boolean; runAsUser: number };
  containers: Container[];
}

/** "750m" -> 0.75, "1" -> 1. */
function cores(quantity: string): number {
  return quantity.endsWith('m') ? Number(quantity.slice(0, -1)) / 1000 : Number(quantity);
}
/** "384Mi" -> bytes. */
function bytes(quantity: string): number {
  const units: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30 };
  const match = /^(\d+)(Ki|Mi|Gi)?$/.exec(quantity);
  if (!match) throw new Error(`unexpected quantity ${quantity}`);
  return Number(match[1]) * (match[2] ? units[match[2]] : 1);
}

/** The variables that .env.example sets, each with the comment line just above it. */
function envExample(): Map<string, string> {
  const lines = read('.env.example').split('\n');
  const vars = new Map<string, string>();
  lines.forEach((line, i) => {
    const match = /^([A-Z][A-Z0-9_]*)=/.exec(line);
    if (match) vars.set(match[1], lines[i - 1] ?? '');
  });
  return vars;
}

/** The environment variables the server's sources read. */
function variablesReadBySources(dir: string): Set<string> {
  const names = new Set<string>();
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const text = readFileSync(join(entry.parentPath, entry.name), 'utf8');
    for (const m of text.matchAll(/process\.env\.([A-Z][A-Z0-9_]*)/g)) names.add(m[1]);
    for (const m of text.matchAll(/FromEnv\(\s*'([A-Z][A-Z0-9_]*)'/g)) names.add(m[1]);
  }
  return names;
}

describe('Kubernetes manifests (deploy/kubernetes)', () => {
  const all = manifests();
  const deployment = all.get('Deployment')!;
  const pod = (deployment?.spec.template as { spec: PodSpec; metadata: Manifest['metadata'] })
    ?.spec;
  const container = pod?.containers[0];
  const env = new Map(container?.env.map((v) => [v.name, v]));
  const envNumber = (name: string) => Number(env.get(name)?.value);

  it('has a Deployment, a Service, a HorizontalPodAutoscaler, all listed in the kustomization', () => {
    expect([...all.keys()]).toEqual(
      expect.arrayContaining(['Deployment', 'Service', 'HorizontalPodAutoscaler', 'Kustomization']),
    );
    const listed = (all.get('Kustomization') as unknown as { resources: string[] }).resources;
    const files = readdirSync(K8S).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...listed].sort()).toEqual(files.sort());
    expect(deployment.apiVersion).toBe('apps/v1');
    expect(pod.containers).toHaveLength(1);
  });

  it('selects its own pods, and the Service sends traffic to the container port', () => {
    const labels = (deployment.spec.template as { metadata: Manifest['metadata'] }).metadata
      .labels!;
    const selector = (deployment.spec.selector as { matchLabels: Record<string, string> })
      .matchLabels;
    expect(labels).toMatchObject(selector);
    const service = all.get('Service')!;
    expect(labels).toMatchObject(service.spec.selector as Record<string, string>);
    const [port] = service.spec.ports as { targetPort: string }[];
    const containerPort = container.ports.find((p) => p.name === port.targetPort);
    expect(containerPort?.containerPort).toBe(envNumber('PORT'));
    expect(env.get('HOST')?.value).toBe('0.0.0.0');
  });

  it('probes readiness and liveness on /healthz; liveness outlasts model loading and the drain', () => {
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      expect(probe.httpGet.path).toBe('/healthz');
      expect(probe.httpGet.port).toBe('http');
    }
    const drainSeconds = (envNumber('SHUTDOWN_DELAY_MS') + envNumber('SHUTDOWN_TIMEOUT_MS')) / 1000;
    const live = container.livenessProbe;
    expect(live.periodSeconds * live.failureThreshold).toBeGreaterThan(drainSeconds);
    // Readiness drops at the first 503, so the pod leaves the Service at once.
    expect(container.readinessProbe.failureThreshold).toBe(1);
  });

  it('gives the drain its time before SIGKILL: terminationGracePeriodSeconds matches it', () => {
    const drainSeconds = (envNumber('SHUTDOWN_DELAY_MS') + envNumber('SHUTDOWN_TIMEOUT_MS')) / 1000;
    expect(envNumber('SHUTDOWN_DELAY_MS')).toBeGreaterThan(0);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(drainSeconds);
    expect(pod.terminationGracePeriodSeconds).toBeLessThanOrEqual(drainSeconds + 10);
  });

  it('asks for resources sized from the measurements, requests within limits', () => {
    const { requests, limits } = container.resources;
    // Measured with WORKERS=1 (docs/benchmarks.md, npm run bench:rolling): 431 MiB resident
    // at most.
    expect(env.get('WORKERS')?.value).toBe('1');
    expect(bytes(requests.memory)).toBeGreaterThanOrEqual(431 * 2 ** 20);
    expect(bytes(limits.memory)).toBeGreaterThanOrEqual(bytes(requests.memory) * 1.5);
    expect(cores(requests.cpu)).toBeGreaterThanOrEqual(0.5);
    expect(cores(limits.cpu)).toBeGreaterThanOrEqual(cores(requests.cpu));
  });

  it('takes DATABASE_URL and ADMIN_TOKEN from a Secret, never from a literal', () => {
    for (const name of ['DATABASE_URL', 'ADMIN_TOKEN']) {
      const variable = env.get(name);
      expect(variable?.value, name).toBeUndefined();
      expect(variable?.valueFrom?.secretKeyRef?.name, name).toBe('digits');
    }
    expect(env.get('DATABASE_URL')?.valueFrom?.secretKeyRef?.optional).toBeFalsy();
  });

  it('runs as a non-root user', () => {
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
  });

  it('scales the Deployment on CPU, from at least two pods', () => {
    const hpa = all.get('HorizontalPodAutoscaler')!;
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: deployment.metadata.name,
    });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    const [metric] = hpa.spec.metrics as {
      type: string;
      resource: { name: string; target: { type: string; averageUtilization: number } };
    }[];
    expect(metric.resource.name).toBe('cpu');
    expect(metric.resource.target.type).toBe('Utilization');
    expect(metric.resource.target.averageUtilization).toBeLessThan(100);
  });

  it('sets only variables that .env.example documents', () => {
    const documented = envExample();
    for (const name of env.keys()) expect(documented.has(name), name).toBe(true);
  });
});

describe('Dockerfile', () => {
  const text = read('Dockerfile').replace(/\\\n/g, ' ');
  const stages = text.split(/^FROM /m).slice(1);
  const runtime = stages.at(-1)!;
  const instruction = (stage: string, name: string) =>
    stage
      .split('\n')
      .filter((line) => line.startsWith(`${name} `))
      .map((line) => line.slice(name.length + 1).trim());

  it('builds with the dev dependencies and ships the production ones only', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const build = stages.find((stage) => /npm run build/.test(stage));
    expect(build).toMatch(/npm prune --omit=dev|npm ci --omit=dev/);
    expect(instruction(runtime, 'COPY').some((c) => /--from=\S+ \S*node_modules/.test(c))).toBe(
      true,
    );
    expect(runtime).not.toMatch(/npm (ci|install)(?! --omit=dev)/);
  });

  it('runs as a non-root user, checks /healthz, and starts node itself as `npm run serve` does', () => {
    const user = instruction(runtime, 'USER');
    expect(user).toHaveLength(1);
    expect(user[0]).not.toMatch(/^(root|0)$/);
    expect(instruction(runtime, 'HEALTHCHECK').join(' ')).toMatch(/\/healthz/);
    const [cmd] = instruction(runtime, 'CMD');
    const argv = JSON.parse(cmd) as string[]; // exec form: no shell between SIGTERM and node
    expect(argv[0]).toBe('node');
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> })
      .scripts;
    expect(argv.join(' ')).toBe(scripts.serve.replace(/^exec /, ''));
    expect(instruction(runtime, 'ENV').join(' ')).toMatch(/HOST=0\.0\.0\.0/);
  });

  it('.dockerignore keeps installed modules, builds, secrets and git out of the context', () => {
    const ignored = read('.dockerignore').split('\n');
    for (const entry of ['node_modules', 'dist', '.git', '.env']) expect(ignored).toContain(entry);
  });
});

describe('.env.example', () => {
  it('documents, with a comment, every variable the server reads', () => {
    const documented = envExample();
    const read = variablesReadBySources('src');
    expect(read.size).toBeGreaterThan(5);
    for (const name of read) {
      expect(documented.has(name), `${name} is read by src/ but not in .env.example`).toBe(true);
      expect(documented.get(name), `${name} needs a comment line above it`).toMatch(/^# \S/);
    }
  });
});
