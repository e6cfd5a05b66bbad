// Opening a run folder to resume, and naming a new one: the same rules for every command.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RunFolder } from '../io/run-folder.ts';
import { UsageError } from './errors.ts';

/** The folder of `--resume dir`, which must hold the resolved config and a checkpoint. */
export function openRunToResume(dir: string, kind: string, checkpointFile: string): RunFolder {
  if (!existsSync(join(dir, 'config.resolved.yaml'))) {
    throw new UsageError(`--resume ${dir}: no config.resolved.yaml there (not a ${kind} run folder)`);
  }
  if (!existsSync(join(dir, checkpointFile))) {
    throw new UsageError(`--resume ${dir}: no ${checkpointFile} there (the run stopped before its first checkpoint)`);
  }
  return new RunFolder(dir);
}

/** `--out`, or runs/<kind>-<preset>-<time>. */
export function newRunDir(out: string | undefined, kind: string, preset: string | undefined): string {
  return out ?? join('runs', `${kind}-${preset ?? 'config'}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
}

/**
 * The folder of a fresh run at `out`, with its resolved config written: refused when it holds any
 * of `runFiles` (an earlier run's checkpoint or result, which --resume continues instead).
 */
export function createRunFolder(out: string, runFiles: readonly string[], resolvedConfig: string): RunFolder {
  for (const name of runFiles) {
    if (existsSync(join(out, name))) {
      throw new UsageError(
        `--out ${out} already holds ${name}: pass --resume ${out} to continue that run, or choose another --out`,
      );
    }
  }
  const run = new RunFolder(out);
  run.writeText('config.resolved.yaml', resolvedConfig);
  return run;
}
