// Errors of the data layer. Each one names the file or folder at fault, so the CLI can print the
// message as a single line and the user knows what to fix.

/** A dataset file or folder is missing, truncated, corrupt or inconsistent. */
export class DatasetError extends Error {
  /** The file or folder the problem was found in. */
  readonly path: string;

  constructor(path: string, message: string) {
    super(message);
    this.name = 'DatasetError';
    this.path = path;
  }
}

/** A recorded split does not match the one rebuilt from the current data and settings. */
export class SplitMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SplitMismatchError';
  }
}
