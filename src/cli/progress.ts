// Progress reporting for long commands: a bar with ETA on a terminal, plain lines otherwise,
// one JSON object per event in --log json mode, nothing in --quiet mode.
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { UsageError } from './errors.ts';

export type LogMode = 'bar' | 'json' | 'quiet';

/** Adds the `--log` and `--quiet` options every long-running command takes. */
export function withProgressOptions(command: Command): Command {
  return command.option('--log <mode>', 'bar | json', 'bar').option('--quiet', 'no progress output');
}

/** The progress mode that `--log` and `--quiet` ask for; a bad `--log` is a usage error. */
export function progressMode(o: { log: string; quiet?: boolean }): LogMode {
  if (o.log !== 'bar' && o.log !== 'json') throw new UsageError(`--log: expected bar or json, got "${o.log}"`);
  return o.quiet ? 'quiet' : o.log;
}

export interface Progress {
  /** Start (or restart) a phase of `total` units. */
  start(phase: string, total: number, done?: number): void;
  update(done: number, fields: Record<string, string | number>): void;
  stop(): void;
  /** A message line (kept in bar mode, JSON in json mode). */
  log(message: string, data?: Record<string, unknown>): void;
}

export function createProgress(mode: LogMode): Progress {
  if (mode === 'json') {
    return {
      start: (phase, total, done = 0) => console.log(JSON.stringify({ event: 'start', phase, total, done })),
      update: (done, fields) => console.log(JSON.stringify({ event: 'progress', done, ...fields })),
      stop: () => {},
      log: (message, data) => console.log(JSON.stringify({ event: 'log', message, ...data })),
    };
  }
  if (mode === 'quiet') return { start: () => {}, update: () => {}, stop: () => {}, log: () => {} };
  if (!process.stderr.isTTY) {
    // Not a terminal (CI, a pipe): a line every ~5% instead of a redrawn bar.
    let total = 1;
    let phase = '';
    let lastShown = -1;
    const started = { t: Date.now(), done: 0 };
    return {
      start: (p, t, done = 0) => {
        phase = p;
        total = Math.max(1, t);
        lastShown = -1;
        started.t = Date.now();
        started.done = done;
      },
      update: (done, fields) => {
        const pct = Math.floor((100 * done) / total);
        if (pct < lastShown + 5 && done < total) return;
        lastShown = pct;
        const rate = (done - started.done) / Math.max(1e-3, (Date.now() - started.t) / 1000);
        const eta = rate > 0 ? Math.round((total - done) / rate) : 0;
        const extra = Object.entries(fields)
          .map(([k, v]) => `${k} ${v}`)
          .join(' | ');
        process.stderr.write(`${phase} ${done}/${total} (${pct}%) eta ${eta}s | ${extra}\n`);
      },
      stop: () => {},
      log: (message) => process.stderr.write(`${message}\n`),
    };
  }
  let bar: cliProgress.SingleBar | null = null;
  return {
    start: (phase, total, done = 0) => {
      bar?.stop();
      bar = new cliProgress.SingleBar(
        {
          format: `${phase} [{bar}] {percentage}% | {value}/{total} | ETA {eta_formatted} | {fields}`,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, done, { fields: '' });
    },
    update: (done, fields) => {
      const text = Object.entries(fields)
        .map(([k, v]) => `${k} ${v}`)
        .join(' | ');
      bar?.update(done, { fields: text });
    },
    stop: () => {
      bar?.stop();
      bar = null;
    },
    log: (message) => {
      if (bar) bar.stop();
      process.stderr.write(`${message}\n`);
    },
  };
}
