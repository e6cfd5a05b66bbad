/**
 * `cream space count|flops|sample`: inspect a search space. Parsing and printing only; the work is
 * in src/space/. Every failure is a UsageError (one line, exit code 2).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  type Arch,
  ArchSampler,
  childCost,
  countCandidates,
  countNetworks,
  formatArch,
  importOfficialArch,
  loadSpace,
  Mulberry32,
  parseArch,
  type SearchSpace,
  SpaceError,
} from '../space/index.ts';
import { UsageError } from './errors.ts';

/** Where command output goes (stdout by default; tests capture it). */
export interface CommandOutput {
  write(text: string): void;
}

const stdout: CommandOutput = { write: (t) => void process.stdout.write(t) };

/** Run `fn`, turning space errors into usage errors. */
async function usage<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof SpaceError || e instanceof SyntaxError) throw new UsageError(e.message);
    throw e;
  }
}

const SUFFIX: Record<string, number> = { '': 1, k: 1e3, K: 1e3, m: 1e6, M: 1e6, g: 1e9, G: 1e9 };

/** `250e6`, `250M`, `0.25G`, `250000000` -> number of MACs. */
export function parseMacs(text: string, option: string): number {
  const m = /^\s*(\d+(?:\.\d*)?(?:e\d+)?)\s*([kKmMgG]?)\s*$/.exec(text);
  if (!m) throw new UsageError(`${option}: expected a number of MACs like 250e6 or 250M, got "${text}"`);
  return Number(m[1]) * SUFFIX[m[2]];
}

function parseIntOption(text: string, option: string, min: number): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < min) {
    throw new UsageError(`${option}: expected an integer >= ${min}, got "${text}"`);
  }
  return Number(text);
}

function loadSpaceOption(name: string | undefined): SearchSpace {
  if (!name) throw new UsageError('--space is required (a preset name or a space file)');
  return loadSpace(name);
}

/**
 * `--arch`: inline JSON, a file (JSON list, or object with an `arch` key; `file.json#key` picks a
 * named entry), or the compact form `k3e4/k5e6,k5e6/...`.
 */
export function readArchOption(space: SearchSpace, text: string, official: boolean): Arch {
  let value: unknown = text;
  const trimmed = text.trim();
  if (!trimmed.startsWith('[')) {
    const hash = text.lastIndexOf('#');
    const [file, key] = hash > 0 && !existsSync(text) ? [text.slice(0, hash), text.slice(hash + 1)] : [text, undefined];
    if (existsSync(file)) {
      let data: unknown;
      try {
        data = JSON.parse(readFileSync(file, 'utf8'));
      } catch (e) {
        throw new UsageError(`--arch ${file}: not valid JSON: ${(e as Error).message}`);
      }
      if (key !== undefined) {
        if (data === null || typeof data !== 'object' || !(key in data)) {
          throw new UsageError(`--arch ${file}: no entry "${key}"`);
        }
        data = (data as Record<string, unknown>)[key];
      } else if (data !== null && typeof data === 'object' && !Array.isArray(data) && 'arch' in data) {
        data = (data as { arch: unknown }).arch;
      }
      value = data;
    } else if (official) {
      throw new UsageError(`--arch: "${text}" is neither a file nor a JSON list`);
    }
  } else if (official) {
    try {
      value = JSON.parse(trimmed);
    } catch (e) {
      throw new UsageError(`--arch: invalid JSON: ${(e as Error).message}`);
    }
  }
  if (official) return importOfficialArch(space, value);
  if (typeof value === 'string' && !trimmed.startsWith('[')) {
    try {
      return parseArch(space, value, { allowDeeper: true });
    } catch (e) {
      throw new UsageError(`--arch "${text}" is not a file; read as a compact architecture: ${(e as Error).message}`);
    }
  }
  return parseArch(space, value, { allowDeeper: true });
}

const group = (n: number | bigint) => n.toLocaleString('en-US');
const mega = (n: number) => `${(n / 1e6).toFixed(n >= 1e8 ? 1 : 2)}M`;

export function registerSpaceCommands(program: Command, out: CommandOutput = stdout): void {
  const space = program.command('space').description('inspect a search space (preset name or YAML/JSON file)');

  space
    .command('count')
    .description('number of candidate paths in the space')
    .requiredOption('--space <space>', 'preset name or space file')
    .option('--json', 'print JSON')
    .action((opts: { space: string; json?: boolean }) =>
      usage(() => {
        const sp = loadSpaceOption(opts.space);
        const candidates = countCandidates(sp);
        const networks = countNetworks(sp);
        if (opts.json) {
          out.write(
            `${JSON.stringify({ space: sp.name, candidates: String(candidates), networks: String(networks) })}\n`,
          );
        } else {
          out.write(
            `${sp.name}: ${group(candidates)} candidate paths (~${Number(candidates).toExponential(2)}), ` +
              `${group(networks)} distinct networks\n`,
          );
        }
      }),
    );

  space
    .command('flops')
    .description('MACs and parameters of a child network')
    .requiredOption('--space <space>', 'preset name or space file')
    .requiredOption(
      '--arch <arch>',
      'architecture: inline JSON, a JSON file (file.json#key for an entry), or k3e4/k5e6,k5e6/...',
    )
    .option('--official', 'the architecture is in the official index form [[0],[3,4,3,1],...,[0]]')
    .option('--resolution <px>', 'input resolution (default: the space input size)')
    .option('--json', 'print {"macs": n, "params": n}')
    .action((opts: { space: string; arch: string; official?: boolean; resolution?: string; json?: boolean }) =>
      usage(() => {
        const sp = loadSpaceOption(opts.space);
        const resolution =
          opts.resolution === undefined ? sp.resolution : parseIntOption(opts.resolution, '--resolution', 1);
        const arch = readArchOption(sp, opts.arch, Boolean(opts.official));
        const { macs, params } = childCost(sp, arch, resolution);
        if (opts.json) out.write(`${JSON.stringify({ macs, params })}\n`);
        else {
          out.write(
            `${sp.name} at ${resolution} px: ${group(macs)} MACs (${mega(macs)}), ${group(params)} parameters (${mega(params)})\n`,
          );
        }
      }),
    );

  space
    .command('sample')
    .description('uniform random paths within a MACs budget, one architecture JSON per line')
    .requiredOption('--space <space>', 'preset name or space file')
    .option('--min-flops <macs>', 'smallest MACs (e.g. 250e6 or 250M); default unbounded')
    .option('--max-flops <macs>', 'largest MACs; default unbounded')
    .option('--n <count>', 'number of paths', '1')
    .option('--seed <seed>', 'PRNG seed', '0')
    .option('--resolution <px>', 'resolution the budget refers to (default: the space input size)')
    .option('--json', 'print {"arch": [...], "macs": n, "params": n} per line')
    .action(
      (opts: {
        space: string;
        minFlops?: string;
        maxFlops?: string;
        n: string;
        seed: string;
        resolution?: string;
        json?: boolean;
      }) =>
        usage(() => {
          const sp = loadSpaceOption(opts.space);
          const n = parseIntOption(opts.n, '--n', 1);
          const seed = parseIntOption(opts.seed, '--seed', 0);
          const resolution =
            opts.resolution === undefined ? sp.resolution : parseIntOption(opts.resolution, '--resolution', 1);
          const sampler = new ArchSampler(sp, {
            minMacs: opts.minFlops === undefined ? undefined : parseMacs(opts.minFlops, '--min-flops'),
            maxMacs: opts.maxFlops === undefined ? undefined : parseMacs(opts.maxFlops, '--max-flops'),
            resolution,
          });
          const rng = new Mulberry32(seed);
          const lines: string[] = [];
          for (let i = 0; i < n; i++) {
            const arch = sampler.sample(rng);
            if (opts.json) lines.push(JSON.stringify({ arch, ...sampler.table.pathCost(arch) }));
            else lines.push(formatArch(arch));
          }
          out.write(`${lines.join('\n')}\n`);
        }),
    );
}
