/**
 * A mistake in how a command was called (bad option value, unreadable or invalid input file).
 * The CLI entry prints its message on one line to stderr and exits with `exitCode` (2).
 */
export class UsageError extends Error {
  override name = 'UsageError';
  readonly exitCode = 2;
}
