/**
 * `cream experiment ablation`: the paper's Table 1 re-run on the same data, budget, seeds and step
 * count for every row (src/eval/ablation.ts). Running the same command again with the same --out
 * continues a killed experiment: finished pieces are read back, unfinished ones resume.
 */
import type { Command } from 'commander';
import { stringify as toYaml } from 'yaml';
import { ablationMarkdown, runAblation, writeAblationReport } from '../eval/ablation.ts';
import {
  ABLATION_ROWS,
  type AblationConfig,
  loadAblationConfigFile,
  loadAblationPreset,
  validateAblationConfig,
} from '../eval/ablation-config.ts';
import { RunFolder } from '../io/run-folder.ts';
import { UsageError } from './errors.ts';
import { intOption } from './options.ts';
import { createProgress, type LogMode, progressMode, withProgressOptions } from './progress.ts';
import { newRunDir } from './run-folders.ts';

interface AblationOptions {
  config?: string;
  preset?: string;
  out?: string;
  seeds?: string;
  rows?: string;
  n?: string;
  threads?: string;
  log: LogMode;
  quiet?: boolean;
}

function listOption(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : value.split(',').map((s) => s.trim());
}

export function resolveAblationConfig(o: AblationOptions): AblationConfig {
  if (o.config && o.preset) throw new UsageError('give either --config or --preset, not both');
  const base = o.config ? loadAblationConfigFile(o.config) : loadAblationPreset(o.preset ?? 'ablation-quick');
  const seeds = listOption(o.seeds)?.map((s) => intOption(s, '--seeds'));
  const n = intOption(o.n, '--n');
  return validateAblationConfig(
    {
      ...base,
      ...(seeds ? { seeds } : {}),
      ...(o.rows ? { rows: listOption(o.rows) } : {}),
      ...(n !== undefined ? { rank: { ...base.rank, n } } : {}),
      ...(o.threads ? { threads: intOption(o.threads, '--threads') } : {}),
    },
    'command-line options',
  );
}

export async function runAblationCommand(o: AblationOptions): Promise<void> {
  const mode = progressMode(o);
  const config = resolveAblationConfig(o);
  const out = newRunDir(o.out, 'ablation', o.preset ?? (o.config ? undefined : 'ablation-quick'));
  const folder = new RunFolder(out);
  // The settings of this invocation, for the record. Rerunning with more seeds or rows extends an
  // experiment; each piece's own folder refuses settings other than those it was started with.
  folder.writeText('config.resolved.yaml', toYaml(config));
  const progress = createProgress(mode);
  progress.log(`experiment folder: ${out} (run the same command again to continue it after a kill)`);
  const result = await runAblation(config, out, {
    onPhase: (what, total, done) => progress.start(what, total, done),
    onProgress: (done, fields) => progress.update(done, fields),
    onLog: (m) => progress.log(m),
  });
  progress.stop();
  writeAblationReport(out, result);
  if (mode === 'json') console.log(JSON.stringify({ event: 'result', ...result }));
  else console.log(ablationMarkdown(result));
}

export function registerExperimentCommands(program: Command): void {
  const experiment = program.command('experiment').description("re-run the paper's experiments");
  withProgressOptions(
    experiment
      .command('ablation')
      .description('Table 1: SPOS, board pick, distillation teachers, meta matching, evolution; tau, accuracy, FLOPs')
      .option('--preset <name>', 'ablation-quick (default) | ablation')
      .option('--config <file>', 'experiment config (YAML or JSON)')
      .option('--out <dir>', 'experiment folder (default runs/ablation-<preset>-<time>); reuse it to continue')
      .option('--seeds <list>', 'e.g. 0,1,2')
      .option('--rows <list>', `subset of ${Object.keys(ABLATION_ROWS).join(', ')}`)
      .option('--n <n>', 'architectures for the rank correlation')
      .option('--threads <n>', 'kernel threads (default: all cores)'),
  ).action(async (o: AblationOptions) => {
    await runAblationCommand(o);
  });
}
