import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

// Child processes of a benchmark: optionally pinned to a core with taskset, output kept in a log
// file (and the last lines in memory for error messages), CPU time read from /proc.

export const repoRoot = path.resolve(import.meta.dirname, '../..');

export interface Child {
  name: string;
  process: ChildProcess;
  pid: number;
  lines: string[];
  /** Resolves with the first output line matching `pattern`; rejects if the process exits first or on timeout. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<string>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  exited: Promise<number>;
}

// --no-pin (diagnostic) lets the scheduler place everything, e.g. to see what the server does with both cores.
const canPin =
  !process.argv.includes('--no-pin') &&
  os.availableParallelism() >= 2 &&
  spawnSync('taskset', ['-c', '0', 'true']).status === 0;

/** Cores to pin [server, load generator] to, or null when pinning is impossible (one core, no taskset) or turned off. */
export function pinning(): { server: string; load: string } | null {
  return canPin ? { server: '0', load: '1' } : null;
}

export function spawnNode(
  name: string,
  args: string[],
  opts: { env: NodeJS.ProcessEnv; cpu?: string; logFile: string },
): Child {
  const argv = [process.execPath, ...args];
  const child =
    opts.cpu !== undefined
      ? spawn('taskset', ['-c', opts.cpu, ...argv], { cwd: repoRoot, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(argv[0]!, argv.slice(1), { cwd: repoRoot, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(opts.logFile);
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (l: string) => void }[] = [];
  let partial = '';
  const onData = (d: Buffer) => {
    log.write(d);
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      if (lines.length > 2000) lines.shift();
      for (const w of [...waiters]) {
        if (w.pattern.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number>((resolve) =>
    child.once('exit', (code, signal) => {
      if (partial) lines.push(partial);
      log.end();
      resolve(code ?? (signal ? 128 : 1));
    }),
  );
  return {
    name,
    process: child,
    // taskset execs the command, so this is the node process itself.
    pid: child.pid!,
    lines,
    exited,
    waitForLine: (pattern, timeoutMs) =>
      new Promise<string>((resolve, reject) => {
        const found = lines.find((l) => pattern.test(l));
        if (found) return resolve(found);
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `${name}: no line matching ${pattern} after ${timeoutMs} ms. Last output:\n${lines.slice(-20).join('\n')}`,
              ),
            ),
          timeoutMs,
        );
        waiters.push({
          pattern,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
        void exited.then((code) => {
          clearTimeout(timer);
          reject(
            new Error(
              `${name} exited with ${code} before printing ${pattern}. Last output:\n${lines.slice(-30).join('\n')}`,
            ),
          );
        });
      }),
    stop: async (graceMs = 10_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

const ticksPerSecond = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** User + system CPU seconds a process (all its threads) has used so far; NaN if it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return NaN;
  }
}

/** Busy and total CPU seconds of the whole machine so far (from /proc/stat), to show how loaded it was. */
export function machineCpu(): { busy: number; total: number } {
  const first = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = first.reduce((a, b) => a + b, 0);
  const idle = (first[3] ?? 0) + (first[4] ?? 0);
  return { busy: (total - idle) / ticksPerSecond, total: total / ticksPerSecond };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}
