import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseEnv, SETTING_NAMES } from '@/lib/env';
import { repoRoot } from './package-facts';

// Docker cannot run on the machines Eddy is built on, so docker-compose.yml and the Dockerfile are
// checked by reading them: what would silently lose data, run as root, ship dev dependencies or
// miss a file at run time fails here instead of on a user's machine.

const read = (f: string) => readFileSync(path.join(repoRoot, f), 'utf8');

// ---- docker-compose.yml ---------------------------------------------------------------------

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string | number>;
  volumes?: string[];
  healthcheck?: { test?: string[] | string; disable?: boolean };
  depends_on?: Record<string, { condition: string }>;
}
const compose = parse(read('docker-compose.yml'), { merge: true }) as {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
};
const services = compose.services;

/** A compose `${VAR}`, `${VAR:-default}`, `${VAR:?message}` as a user running it would have it. */
function interpolate(value: string | number, given: Record<string, string>): string {
  return String(value).replace(
    /\$\{(\w+)(?::?([-?])([^}]*))?\}/g,
    (_, name: string, kind?: string, rest?: string) => given[name] ?? (kind === '-' ? (rest ?? '') : ''),
  );
}
const namedVolumeAt = (svc: Service, target: string) =>
  (svc.volumes ?? []).some((v) => {
    const [source, dest] = v.split(':');
    return dest === target && source !== undefined && compose.volumes !== undefined && source in compose.volumes;
  });
/** Services others wait for to *finish* (one-shot jobs such as migrate). */
const oneShot = new Set(
  Object.values(services).flatMap((s) =>
    Object.entries(s.depends_on ?? {})
      .filter(([, d]) => d.condition === 'service_completed_successfully')
      .map(([n]) => n),
  ),
);
const ourServices = Object.entries(services).filter(([, s]) => s.build !== undefined);

describe('docker-compose.yml', () => {
  it('every long-running service has a healthcheck; one-shot jobs disable the image’s (they exit, they do not serve)', () => {
    for (const [name, svc] of Object.entries(services)) {
      if (oneShot.has(name))
        expect({ name, healthcheck: svc.healthcheck }).toEqual({ name, healthcheck: { disable: true } });
      else
        expect({ name, test: svc.healthcheck?.test }).toEqual({
          name,
          test: expect.arrayContaining([expect.any(String)]),
        });
    }
  });

  it('runs the Kafka release the test suite runs on (KAFKA_VERSION, 4.x)', () => {
    expect(services.kafka!.image).toBe(`apache/kafka:${parseEnv({}).KAFKA_VERSION}`);
  });

  it("Kafka keeps its log (topics and committed offsets) in the volume: KAFKA_LOG_DIRS is the volume's mount point", () => {
    const kafka = services.kafka!;
    const dir = String(kafka.environment?.KAFKA_LOG_DIRS ?? '');
    expect(dir).not.toBe('');
    expect(namedVolumeAt(kafka, dir)).toBe(true);
  });

  it("PostgreSQL's data directory is in the volume (the postgres:18 image moved it up to /var/lib/postgresql)", () => {
    const pg = services.postgres!;
    const major = Number(/^postgres:(\d+)/.exec(pg.image ?? '')?.[1]);
    const pgdata = pg.environment?.PGDATA;
    const mounts = (pg.volumes ?? []).map((v) => v.split(':')[1]!);
    const dataDir = String(
      pgdata ?? (major >= 18 ? `/var/lib/postgresql/${major}/docker` : '/var/lib/postgresql/data'),
    );
    const mount = mounts.find((m) => dataDir === m || dataDir.startsWith(`${m}/`));
    expect(mount, `a named volume holding ${dataDir}`).toBeDefined();
    expect(namedVolumeAt(pg, mount!)).toBe(true);
  });

  it("Eddy's services get only settings lib/env.ts (or next-auth) reads, with values it accepts", () => {
    const nextAuth = new Set(['NEXTAUTH_URL', 'NEXTAUTH_SECRET']);
    const given = { AUTH_SECRET: 'x'.repeat(32) };
    const known = new Set(SETTING_NAMES);
    expect(ourServices.map(([n]) => n).sort()).toEqual(['alerts', 'migrate', 'web', 'worker']);
    for (const [name, svc] of ourServices) {
      const environment = Object.fromEntries(
        Object.entries(svc.environment ?? {}).map(([k, v]) => [k, interpolate(v, given)]),
      );
      expect({ name, unknown: Object.keys(environment).filter((k) => !known.has(k) && !nextAuth.has(k)) }).toEqual({
        name,
        unknown: [],
      });
      const e = parseEnv(environment);
      expect(e.KAFKA_BROKERS).toEqual([
        String(services.kafka!.environment!.KAFKA_ADVERTISED_LISTENERS).replace(/^PLAINTEXT:\/\//, ''),
      ]);
      const url = new URL(e.DATABASE_URL!);
      const pgEnv = services.postgres!.environment!;
      expect([url.hostname, url.username, url.password, url.pathname.slice(1)]).toEqual([
        'postgres',
        pgEnv.POSTGRES_USER,
        pgEnv.POSTGRES_PASSWORD,
        pgEnv.POSTGRES_DB,
      ]);
    }
  });

  it('web and workers wait for a migrated database and a healthy Kafka, and report health with scripts/healthcheck.mjs', () => {
    for (const name of ['web', 'worker', 'alerts']) {
      const svc = services[name]!;
      expect(svc.depends_on?.migrate?.condition).toBe('service_completed_successfully');
      expect(svc.depends_on?.kafka?.condition).toBe('service_healthy');
      expect(svc.healthcheck?.test).toEqual([
        'CMD',
        'node',
        'scripts/healthcheck.mjs',
        name === 'alerts' ? 'worker' : name,
      ]);
    }
    expect(services.migrate!.depends_on?.postgres?.condition).toBe('service_healthy');
  });
});

// ---- Dockerfile ----------------------------------------------------------------------------

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  from: string;
  name?: string;
  steps: Instruction[];
}

function dockerfileStages(text: string): Stage[] {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, op, args] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    if (!op || args === undefined) throw new Error(`Dockerfile line not understood: ${line}`);
    if (op.toUpperCase() === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ from: m![1]!, name: m![2], steps: [] });
    } else stages.at(-1)!.steps.push({ op: op.toUpperCase(), args });
  }
  return stages;
}

/** A COPY's sources and --from stage. */
function copySources(args: string): { from?: string; sources: string[] } {
  const words = args.startsWith('[') ? (JSON.parse(args) as string[]) : args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith('--'));
  const rest = words.filter((w) => !w.startsWith('--'));
  return { from: flags.find((f) => f.startsWith('--from='))?.slice('--from='.length), sources: rest.slice(0, -1) };
}

const stages = dockerfileStages(read('Dockerfile'));
const runtime = stages.at(-1)!;

/** Repository files the server, the workers and the migration job load (esbuild follows the imports). */
async function runtimeSourceFiles(): Promise<string[]> {
  const r = await esbuild.build({
    absWorkingDir: repoRoot,
    entryPoints: ['server/index.ts', 'workers/cli.ts', 'scripts/migrate.ts', 'next.config.mjs'],
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    write: false,
    metafile: true,
    outdir: 'out',
    logLevel: 'silent',
  });
  return Object.keys(r.metafile.inputs);
}

// What the runtime stage may copy besides the sources above, each for a reason.
const runtimeExtras: Record<string, string> = {
  node_modules: 'production dependencies, from the prod-deps stage',
  'package.json': '"type": "module" and the package name',
  'tsconfig.json': 'tsx resolves the @/ imports with it',
  '.next': 'the built app',
  public: 'the built tracker (t.js)',
  'prisma/migrations': 'read by the migration runner (lib/db/migrate.ts)',
  'scripts/healthcheck.mjs': 'HEALTHCHECK and compose healthchecks',
};

describe('Dockerfile', () => {
  it('builds in stages and installs only with npm ci (the lockfile, exactly)', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const runs = stages.flatMap((s) => s.steps.filter((i) => i.op === 'RUN').map((i) => i.args));
    expect(runs.filter((r) => /\bnpm (install|i)\b/.test(r))).toEqual([]);
    expect(runs.some((r) => /\bnpm ci\b/.test(r))).toBe(true);
  });

  it('runs as a non-root user and declares a HEALTHCHECK', () => {
    const users = runtime.steps.filter((i) => i.op === 'USER').map((i) => i.args.split(':')[0]);
    expect(users.at(-1)).toBeDefined();
    expect(['root', '0']).not.toContain(users.at(-1));
    const hc = runtime.steps.find((i) => i.op === 'HEALTHCHECK');
    expect(hc?.args).toMatch(/CMD \["node", "scripts\/healthcheck\.mjs", "web"\]/);
    expect(runtime.steps.at(-1)!.op).toBe('CMD');
  });

  it('the runtime stage takes node_modules only from a stage that installed without dev dependencies', () => {
    const copies = runtime.steps.filter((i) => i.op === 'COPY').map((i) => copySources(i.args));
    const nm = copies.filter((c) => c.sources.some((s) => /(^|\/)node_modules\/?$/.test(s)));
    expect(nm).toHaveLength(1);
    const from = stages.find((s) => s.name === nm[0]!.from);
    expect(from?.steps.some((i) => i.op === 'RUN' && /npm ci\b.*--omit=dev/.test(i.args))).toBe(true);
    expect(runtime.from).not.toBe(stages[0]!.name); // a fresh base, not the build stage with its dev dependencies
  });

  it('the runtime stage copies what the server, workers and migrations load — and nothing else', async () => {
    const copies = runtime.steps.filter((i) => i.op === 'COPY').map((i) => copySources(i.args));
    const copied = copies.flatMap((c) => c.sources.map((s) => s.replace(/^\/app\//, '').replace(/\/$/, '')));
    expect(copied).not.toContain('.');
    const covers = (file: string) => copied.some((c) => file === c || file.startsWith(`${c}/`));
    const loaded = await runtimeSourceFiles();
    expect(loaded.length).toBeGreaterThan(50);
    expect(loaded.filter((f) => !covers(f))).toEqual([]);
    const unneeded = copied.filter(
      (c) => !(c in runtimeExtras) && !loaded.some((f) => f === c || f.startsWith(`${c}/`)),
    );
    expect(unneeded).toEqual([]);
    for (const c of copies.filter((c) => c.from === undefined))
      for (const s of c.sources) expect({ s, exists: existsSync(path.join(repoRoot, s)) }).toEqual({ s, exists: true });
  }, 30_000);
});

describe('.dockerignore', () => {
  const patterns = read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const ignored = (name: string) =>
    patterns.some((p) =>
      new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}(/.*)?$`).test(name),
    );

  it('keeps secrets, local data and host-built dependencies out of the build context', () => {
    for (const f of [
      '.env',
      '.env.local',
      '.env.production',
      '.env.development.local',
      'node_modules',
      '.eddy',
      '.git',
      '.next',
    ])
      expect({ f, ignored: ignored(f) }).toEqual({ f, ignored: true });
    for (const f of ['package.json', 'app', 'lib', 'prisma'])
      expect({ f, ignored: ignored(f) }).toEqual({ f, ignored: false });
  });
});

// ---- scripts/healthcheck.mjs -----------------------------------------------------------------

const healthcheck = (mode: string, env: Record<string, string>) =>
  spawnSync(process.execPath, [path.join(repoRoot, 'scripts/healthcheck.mjs'), mode], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 20_000,
  }).status;

describe('scripts/healthcheck.mjs', () => {
  it('web: healthy when the server answers, unhealthy on a 5xx or when nothing listens', async () => {
    let status = 200;
    const server = createServer((_, res) => res.writeHead(status).end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = String((server.address() as AddressInfo).port);
    try {
      // spawnSync blocks this thread, so the child is run asynchronously while the server answers.
      const run = () =>
        new Promise<number | null>((resolve) => {
          import('node:child_process').then(
            ({ spawn }) =>
              spawn(process.execPath, [path.join(repoRoot, 'scripts/healthcheck.mjs'), 'web'], {
                env: { ...process.env, PORT: port },
              }).on('exit', resolve),
            () => resolve(null),
          );
        });
      expect(await run()).toBe(0);
      status = 503;
      expect(await run()).toBe(1);
    } finally {
      await new Promise((r) => server.close(r));
    }
    expect(healthcheck('web', { PORT: port })).toBe(1);
  }, 30_000);

  it('worker: unhealthy when PostgreSQL is out of reach', () => {
    expect(healthcheck('worker', { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' })).toBe(1);
  }, 30_000);
});
