// A run folder: resolved config, an append-only metrics log (JSON lines), result files and the
// checkpoint. On resume the log is cut back to the checkpoint's step so no step appears twice.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { writeFileAtomicSync } from './atomic-write.ts';
import type { Plot } from './plot.ts';

export class RunFolder {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  exists(name: string): boolean {
    return existsSync(this.path(name));
  }

  writeYaml(name: string, value: unknown): void {
    writeFileAtomicSync(this.path(name), toYaml(value));
  }

  writeJson(name: string, value: unknown): void {
    writeFileAtomicSync(this.path(name), `${JSON.stringify(value, null, 2)}\n`);
  }

  writeText(name: string, text: string | Uint8Array): void {
    writeFileAtomicSync(this.path(name), text);
  }

  /** Writes `<name>.svg` and `<name>.png`. */
  writePlot(name: string, plot: Plot): void {
    this.writeText(`${name}.svg`, plot.toSvg());
    this.writeText(`${name}.png`, plot.toPng());
  }

  readText(name: string): string {
    return readFileSync(this.path(name), 'utf8');
  }

  /** Appends one JSON line to `name` (metrics.jsonl). */
  appendJsonLine(name: string, value: unknown): void {
    appendFileSync(this.path(name), `${JSON.stringify(value)}\n`);
  }

  /** Reads a JSON-lines file; a torn last line (a kill mid-append) is dropped. */
  readJsonLines<T>(name: string): T[] {
    if (!this.exists(name)) return [];
    const out: T[] = [];
    for (const line of this.readText(name).split('\n')) {
      if (line.trim() === '') continue;
      try {
        out.push(JSON.parse(line) as T);
      } catch {
        break;
      }
    }
    return out;
  }

  /** Keeps only the lines `keep` accepts (resume: drop steps after the checkpoint). */
  filterJsonLines<T>(name: string, keep: (row: T) => boolean): void {
    if (!this.exists(name)) return;
    const rows = this.readJsonLines<T>(name).filter(keep);
    writeFileSync(this.path(name), rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
  }
}
