import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { repoRoot } from './services/util';

// Keeps a child process running: if it exits (a worker exits on purpose when its consumer
// crashes), it is restarted with a short backoff. Output goes to the terminal with a prefix
// and to a log file.

export interface Supervised {
  readonly child: () => ChildProcess | undefined;
  stop(): Promise<void>;
}

export function supervise(name: string, args: string[], env: NodeJS.ProcessEnv, logFile: string): Supervised {
  let child: ChildProcess | undefined;
  let stopping = false;
  let restarts = 0;
  const log = createWriteStream(logFile, { flags: 'a' });
  const start = () => {
    const c = spawn(process.execPath, ['--import', 'tsx', ...args], {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = c;
    const relay = (chunk: Buffer) => {
      log.write(chunk);
      for (const line of chunk.toString().split('\n')) if (line.trim()) process.stdout.write(`[${name}] ${line}\n`);
    };
    c.stdout?.on('data', relay);
    c.stderr?.on('data', relay);
    c.on('exit', (code, signal) => {
      if (stopping) return;
      restarts++;
      const delay = Math.min(10_000, 500 * 2 ** Math.min(restarts, 5));
      console.error(`[${name}] exited (${signal ?? code}); restarting in ${delay} ms`);
      setTimeout(start, delay);
    });
  };
  start();
  return {
    child: () => child,
    stop: () =>
      new Promise<void>((resolve) => {
        stopping = true;
        const c = child;
        if (!c || c.exitCode !== null) return resolve();
        const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
        c.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        c.kill('SIGTERM');
      }),
  };
}
