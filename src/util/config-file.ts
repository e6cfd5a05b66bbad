// Reading a YAML/JSON config file, and finding the files it names: the same rules for the search,
// retrain and experiment configs.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';

/** The parsed contents of a YAML or JSON file; an unreadable or malformed one is `makeError(message)`. */
export function readConfigFile(path: string, makeError: (message: string) => Error): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw makeError(`cannot read config ${path}: ${(err as Error).message}`);
  }
  try {
    return parseYaml(text);
  } catch (err) {
    throw makeError(`${path}: not valid YAML/JSON: ${(err as Error).message}`);
  }
}

/** A relative .yaml/.yml/.json file named in the config at `configPath` is found beside that config; preset names stay as they are. */
export function besideConfig(ref: string, configPath: string): string {
  return /\.(ya?ml|json)$/i.test(ref) && !isAbsolute(ref) ? resolve(dirname(configPath), ref) : ref;
}
