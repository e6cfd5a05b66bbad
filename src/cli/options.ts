// Parsing of numeric command-line options, shared by the commands: a bad value is a UsageError
// that names the option and the text given.
import { UsageError } from './errors.ts';

/** A non-negative integer option; undefined when the option was not given. */
export function intOption(text: string | undefined, option: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text.trim())) throw new UsageError(`${option}: expected a non-negative integer, got "${text}"`);
  return Number(text);
}

/** A finite number option; undefined when the option was not given. */
export function numberOption(text: string | undefined, option: string): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v)) throw new UsageError(`${option}: expected a number, got "${text}"`);
  return v;
}
