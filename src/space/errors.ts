/**
 * Every problem with a space file, an architecture or a budget is a `SpaceError`: a one-line
 * message that names what is wrong (the key path, the stage and layer, the op, the allowed values).
 * The CLI turns it into a usage error; library users can catch it by class.
 */
export class SpaceError extends Error {
  override name = 'SpaceError';
}
