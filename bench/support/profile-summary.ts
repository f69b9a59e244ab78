import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

// Where a server's CPU went, from the .cpuprofile `node --cpu-prof` writes at exit: self time
// by origin (framework, Eddy's code, drivers, GC, …), inclusive time of the collect path's key
// functions, and the hottest functions. Also runnable alone:
// node --import tsx bench/support/profile-summary.ts <dir or .cpuprofile>

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  /** Microseconds on the machine's monotonic clock (the one process.hrtime reads). */
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A time span on the monotonic clock, in microseconds (process.hrtime.bigint() / 1000). */
export interface ProfileWindow {
  startUs: number;
  endUs: number;
}

/** Functions whose inclusive time tells how the collect path splits. */
const KEY_FUNCTIONS = [
  'ingest',
  'parseBody',
  'toRecord',
  'identify',
  'parseUserAgent',
  'produceEvents',
  'readBodyCapped',
  'flush',
  'sendBatch',
  'POST',
  'handleRequest',
];

function origin(url: string, fn: string): string {
  if (!url)
    return fn === '(garbage collector)'
      ? 'GC'
      : fn === '(idle)'
        ? 'idle'
        : fn === '(program)'
          ? 'native/other (program)'
          : `native (${fn || 'anonymous'})`;
  if (url.startsWith('node:')) return 'node core (http, streams, …)';
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = u.slice(nm + '/node_modules/'.length).split('/');
    const pkg = rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
    return pkg === 'next' && u.includes('/compiled/') ? 'next (compiled deps)' : pkg;
  }
  if (u.includes('/.next/server/')) return 'Next build output (route bundle: app + bundled lib code)';
  if (u.includes('/.next/')) return 'Next build output (other)';
  const rel = u.includes('/lib/') ? u.slice(u.indexOf('/lib/') + 1) : path.basename(u);
  if (rel.startsWith('lib/')) return `eddy ${rel.split('/').slice(0, 2).join('/')}`;
  return `other (${rel})`;
}

export function loadProfile(target: string): CpuProfile | null {
  let file = target;
  if (existsSync(target) && !target.endsWith('.cpuprofile')) {
    // One profile per thread (CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; tsx's loader
    // hooks run in a worker): the main thread is 0.
    const files = readdirSync(target).filter((f) => f.endsWith('.cpuprofile'));
    const main = files.find((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f)) ?? files[0];
    if (!main) return null;
    file = path.join(target, main);
  }
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
}

/** With a window, only samples taken inside it count (start-up and shutdown are left out). */
export function summariseProfile(target: string, window?: ProfileWindow, top = 20, events?: number): string[] {
  const profile = loadProfile(target);
  if (!profile) return [`(no profile in ${target})`];
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    // A sample's delta is the time since the previous sample: the time it stands for.
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (window && (at < window.startUs || at > window.endUs)) return;
    self.set(id, (self.get(id) ?? 0) + delta);
  });
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const idleIds = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  const idle = [...idleIds].reduce((a, id) => a + (self.get(id) ?? 0), 0);
  const busy = total - idle;
  // With the number of events handled in the window, each share is also shown as µs per event.
  const pct = (us: number) =>
    `${((us / busy) * 100).toFixed(1)}%`.padStart(6) +
    (events ? ` ${(us / events).toFixed(1).padStart(6)} µs/event` : '');
  const out: string[] = [
    `${window ? 'measured window: ' : ''}busy ${(busy / 1e6).toFixed(2)} s of ${(total / 1e6).toFixed(2)} s profiled (idle ${(idle / 1e6).toFixed(2)} s); shares below are of busy time`,
  ];

  const byOrigin = new Map<string, number>();
  for (const [id, us] of self) {
    if (idleIds.has(id)) continue;
    const f = byId.get(id)!.callFrame;
    const o = origin(f.url, f.functionName);
    byOrigin.set(o, (byOrigin.get(o) ?? 0) + us);
  }
  out.push('self time by origin:');
  for (const [o, us] of [...byOrigin].sort((a, b) => b[1] - a[1]).slice(0, 14)) out.push(`  ${pct(us)}  ${o}`);

  // Inclusive time: a sample counts for a function if the function is anywhere on its stack (once).
  const inclusive = new Map<string, number>();
  for (const [id, us] of self) {
    const seen = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const name = byId.get(n)!.callFrame.functionName;
      if (KEY_FUNCTIONS.includes(name) && !seen.has(name)) {
        seen.add(name);
        inclusive.set(name, (inclusive.get(name) ?? 0) + us);
      }
    }
  }
  out.push('inclusive time of key functions (synchronous parts; async continuations count where they resume):');
  for (const name of KEY_FUNCTIONS) if (inclusive.get(name)) out.push(`  ${pct(inclusive.get(name)!)}  ${name}`);

  const byFunction = new Map<string, number>();
  for (const [id, us] of self) {
    if (idleIds.has(id)) continue;
    const f = byId.get(id)!.callFrame;
    const where = f.url
      ? `${f.url
          .replace(/^file:\/\//, '')
          .replace(/^.*\/node_modules\//, '')
          .replace(/^.*\/\.next\//, '.next/')
          .replace(/^.*\/(lib|server|bench)\//, '$1/')}:${f.lineNumber + 1}`
      : '';
    const key = `${f.functionName || '(anonymous)'} ${where}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  }
  out.push(`top ${top} functions by self time:`);
  for (const [k, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) out.push(`  ${pct(us)}  ${k}`);
  return out;
}

if (process.argv[1] && import.meta.filename === path.resolve(process.argv[1])) {
  for (const line of summariseProfile(process.argv[2] ?? '.', undefined, Number(process.argv[3] ?? 25)))
    console.log(line);
}
