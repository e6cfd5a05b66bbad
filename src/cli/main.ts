// The `cream` command line. Each command lives in its own file; this one wires them up and turns
// expected failures (bad input, missing data) into one line on stderr and a non-zero exit code.
import { Command, CommanderError } from 'commander';
import { registerBenchCommands } from './bench.ts';
import { UsageError } from './errors.ts';
import { registerEvalCommand } from './eval.ts';
import { registerExperimentCommands } from './experiment.ts';
import { registerExportCommand } from './export.ts';
import { registerRankCommand } from './rank.ts';
import { registerRetrainCommand } from './retrain.ts';
import { registerSearchCommand } from './search.ts';
import { registerSpaceCommands } from './space.ts';

const KNOWN_ERRORS = new Set([
  'UsageError',
  'ConfigError',
  'SpaceError',
  'DatasetError',
  'SplitMismatchError',
  'DataMismatchError',
  'SearchError',
  'CheckpointError',
  'SafetensorsError',
  'BoardError',
  'RetrainError',
  'UnsupportedOpError',
  'ScratchCacheError',
]);

export function buildProgram(): Command {
  const program = new Command('cream')
    .description('Cream of the Crop: one-shot NAS with prioritized path distillation, on native CPU kernels')
    .exitOverride();
  registerSearchCommand(program);
  registerRetrainCommand(program);
  registerEvalCommand(program);
  registerSpaceCommands(program);
  registerBenchCommands(program);
  registerExportCommand(program);
  registerExperimentCommands(program);
  registerRankCommand(program);
  return program;
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? 0 : 2;
      return;
    }
    const err = e as Error;
    if (err instanceof UsageError || KNOWN_ERRORS.has(err.name) || err instanceof RangeError) {
      process.stderr.write(`cream: ${err.message}\n`);
      // A bad config value is the user's input as much as a bad flag: exit status 2 for both.
      process.exitCode = err instanceof UsageError || err.name === 'ConfigError' ? 2 : 1;
      return;
    }
    process.stderr.write(`cream: ${err.stack ?? err.message}\n`);
    process.exitCode = 1;
  }
}

await main();
