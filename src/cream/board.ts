/**
 * The prioritized path board of Cream (CREAM.md §3, Eq. 3): the K best paths seen so far, judged by
 * (accuracy, FLOPs). Board paths are the teachers that distil into the sampled path, and the
 * final answer of a search is the board's best member.
 *
 * The rule, exactly (Eq. 3 plus the choices the paper leaves open):
 * - A path whose arch is already on the board never enters twice: its accuracy is refreshed
 *   instead (a 'rescore' in the history). Its FLOPs must match; a mismatch is a caller bug.
 * - A path enters freely while the board holds fewer than K paths.
 * - On a full board, a path alpha enters if it weakly dominates some member b:
 *   acc(alpha) >= acc(b) and flops(alpha) <= flops(b). Ties count in alpha's favour, because its
 *   score was measured on fresher weights. Among the members alpha weakly dominates it replaces
 *   the *least competitive*: lowest accuracy; ties broken by highest FLOPs; then the oldest
 *   (smallest `enteredAtStep`, then earliest entered).
 * - Otherwise alpha is rejected; rejections are not recorded in the history (one per step would
 *   swamp it).
 *
 * What this guarantees (tested in test/cream/board.test.ts), as long as scores do not change after
 * they are offered (no rescores, no refreshes):
 * - every path rejected by a full board weakly dominates no member, then or at any later time;
 * - every path that left the board is weakly dominated by some current member;
 * - the best member's accuracy never drops and the lowest member FLOPs never rise.
 * It does *not* make the board a Pareto front: the first K paths enter unconditionally and a
 * newcomer evicts only one of the members it dominates, so members may dominate each other
 * (CREAM.md's "the survivors are Pareto optima" is the paper's idealisation, not this rule's).
 *
 * Paths are identified by `key`, the JSON of the arch as given: callers offer arches in one normal
 * form (the sampler's full-depth lists), or two spellings of one network count as two paths.
 */

/** One list of op names per searchable stage (same shape as `Arch` in src/space/arch.ts). */
export type BoardArch = readonly (readonly string[])[];

export interface BoardEntry {
  /** One list of op names per searchable stage. */
  arch: string[][];
  /** Canonical JSON of `arch`; the identity of the path on the board. */
  key: string;
  /** Latest accuracy (entry score, refreshed by rescores). */
  accuracy: number;
  flops: number;
  /** Step at which the path entered the board (kept across rescores). */
  enteredAtStep: number;
}

export type BoardEvent =
  | { kind: 'enter'; step: number; key: string; accuracy: number; flops: number; replaces?: string }
  | { kind: 'exit'; step: number; key: string; accuracy: number; flops: number; replacedBy: string }
  | { kind: 'rescore'; step: number; key: string; accuracy: number; flops: number; previousAccuracy: number };

export interface OfferResult {
  /** True when the path is on the board after the offer (entered, replaced a member, or rescored). */
  accepted: boolean;
  outcome: 'entered' | 'replaced' | 'rescored' | 'rejected';
  /** The member that left to make room (outcome 'replaced'). */
  replaced?: BoardEntry;
}

/** The plain-JSON form of a board, for checkpoints; `PrioritizedBoard.fromJSON` reads it back exactly. */
export interface BoardJSON {
  format: typeof BOARD_FORMAT;
  version: 1;
  capacity: number;
  entries: BoardEntry[];
  history: BoardEvent[];
}

/** Bad input to the board, or a board JSON that does not describe a valid board. */
export class BoardError extends Error {
  override name = 'BoardError';
}

const BOARD_FORMAT = 'cream-ts/prioritized-board';

export class PrioritizedBoard {
  readonly capacity: number;
  /** Members in order of entry; the order breaks the last "oldest" tie. */
  private members: BoardEntry[] = [];
  private events: BoardEvent[] = [];

  /** @param capacity K, the number of paths kept (paper and official code: 10). */
  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new BoardError(`board capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
  }

  get size(): number {
    return this.members.length;
  }

  get isFull(): boolean {
    return this.members.length >= this.capacity;
  }

  /** Offer a path scored at `step`; applies Eq. 3 as described at the top of this file. */
  offer(arch: BoardArch, accuracy: number, flops: number, step: number): OfferResult {
    const key = archKey(arch, 'offer: arch');
    checkScore(accuracy, flops, 'offer');
    checkStep(step, 'offer');

    const existing = this.members.find((m) => m.key === key);
    if (existing) {
      if (existing.flops !== flops) {
        throw new BoardError(
          `offer: ${key} is on the board with ${existing.flops} FLOPs but was offered with ${flops}; ` +
            'FLOPs of a path never change within a run',
        );
      }
      this.refresh(existing, accuracy, step);
      return { accepted: true, outcome: 'rescored' };
    }

    const entry: BoardEntry = { arch: copyArch(arch), key, accuracy, flops, enteredAtStep: step };
    if (!this.isFull) {
      this.members.push(entry);
      this.events.push({ kind: 'enter', step, key, accuracy, flops });
      return { accepted: true, outcome: 'entered' };
    }

    const victimIndex = this.leastCompetitiveDominatedBy(accuracy, flops);
    if (victimIndex < 0) return { accepted: false, outcome: 'rejected' };
    const [victim] = this.members.splice(victimIndex, 1);
    this.events.push({
      kind: 'exit',
      step,
      key: victim.key,
      accuracy: victim.accuracy,
      flops: victim.flops,
      replacedBy: key,
    });
    this.members.push(entry);
    this.events.push({ kind: 'enter', step, key, accuracy, flops, replaces: victim.key });
    return { accepted: true, outcome: 'replaced', replaced: copyEntry(victim) };
  }

  /**
   * Refresh every member's accuracy, e.g. with validation accuracy once per epoch, because entry
   * scores go stale as the shared weights train. Each member gets a 'rescore' event at `step`.
   * `score` sees a copy of the member; all scores are computed before any is applied, so a
   * throwing `score` leaves the board unchanged.
   */
  rescore(score: (entry: BoardEntry) => number, step: number): void {
    checkStep(step, 'rescore');
    const scores = this.members.map((m) => {
      const accuracy = score(copyEntry(m));
      if (!Number.isFinite(accuracy)) throw new BoardError(`rescore: score for ${m.key} is ${accuracy}, not finite`);
      return accuracy;
    });
    this.members.forEach((m, i) => {
      this.refresh(m, scores[i], step);
    });
  }

  /** Highest accuracy; ties: fewer FLOPs, then the older member. Undefined on an empty board. */
  best(): BoardEntry | undefined {
    let best: BoardEntry | undefined;
    for (const m of this.members) {
      if (!best || m.accuracy > best.accuracy || (m.accuracy === best.accuracy && m.flops < best.flops)) best = m;
    }
    return best && copyEntry(best);
  }

  /** Copies of the members, in order of entry. */
  entries(): BoardEntry[] {
    return this.members.map(copyEntry);
  }

  /** The member with this arch, if any (a copy). */
  get(arch: BoardArch): BoardEntry | undefined {
    const key = archKey(arch, 'get: arch');
    const m = this.members.find((e) => e.key === key);
    return m && copyEntry(m);
  }

  /** Every entry, exit and rescore so far, oldest first (copies). */
  history(): BoardEvent[] {
    return this.events.map((e) => ({ ...e }));
  }

  toJSON(): BoardJSON {
    return {
      format: BOARD_FORMAT,
      version: 1,
      capacity: this.capacity,
      entries: this.entries(),
      history: this.history(),
    };
  }

  /** Rebuild a board from `toJSON()` output (after a JSON round trip); validates every field. */
  static fromJSON(json: unknown): PrioritizedBoard {
    const obj = asRecord(json, 'board');
    if (obj.format !== BOARD_FORMAT) {
      throw new BoardError(`board.format: expected "${BOARD_FORMAT}", got ${JSON.stringify(obj.format)}`);
    }
    if (obj.version !== 1) throw new BoardError(`board.version: expected 1, got ${JSON.stringify(obj.version)}`);
    const board = new PrioritizedBoard(obj.capacity as number);
    if (!Array.isArray(obj.entries)) throw new BoardError('board.entries: expected a list');
    if (obj.entries.length > board.capacity) {
      throw new BoardError(`board.entries: ${obj.entries.length} entries exceed the capacity ${board.capacity}`);
    }
    const seen = new Set<string>();
    board.members = obj.entries.map((raw, i) => {
      const where = `board.entries[${i}]`;
      const e = asRecord(raw, where);
      checkFields(e, ['arch', 'key', 'accuracy', 'flops', 'enteredAtStep'], where);
      const key = archKey(e.arch, `${where}.arch`);
      if (e.key !== key) throw new BoardError(`${where}.key: ${JSON.stringify(e.key)} is not the JSON of its arch`);
      if (seen.has(key)) throw new BoardError(`${where}: duplicate path ${key}`);
      seen.add(key);
      checkScore(e.accuracy, e.flops, where);
      checkStep(e.enteredAtStep, `${where}.enteredAtStep`);
      const flops = e.flops as number;
      return { arch: copyArch(e.arch as BoardArch), key, accuracy: e.accuracy, flops, enteredAtStep: e.enteredAtStep };
    });
    if (!Array.isArray(obj.history)) throw new BoardError('board.history: expected a list');
    board.events = obj.history.map((raw, i) => parseEvent(raw, `board.history[${i}]`));
    return board;
  }

  private refresh(member: BoardEntry, accuracy: number, step: number): void {
    this.events.push({
      kind: 'rescore',
      step,
      key: member.key,
      accuracy,
      flops: member.flops,
      previousAccuracy: member.accuracy,
    });
    member.accuracy = accuracy;
  }

  /** Index of the member to evict for a newcomer with this score, or -1 if it dominates none. */
  private leastCompetitiveDominatedBy(accuracy: number, flops: number): number {
    let victim = -1;
    this.members.forEach((m, i) => {
      if (!(accuracy >= m.accuracy && flops <= m.flops)) return;
      if (victim < 0) {
        victim = i;
        return;
      }
      const v = this.members[victim];
      // Strict comparisons keep the earlier (older-entered) index on a full tie.
      const lessCompetitive =
        m.accuracy < v.accuracy ||
        (m.accuracy === v.accuracy &&
          (m.flops > v.flops || (m.flops === v.flops && m.enteredAtStep < v.enteredAtStep)));
      if (lessCompetitive) victim = i;
    });
    return victim;
  }
}

function archKey(arch: unknown, where: string): string {
  if (!Array.isArray(arch) || arch.length === 0) {
    throw new BoardError(`${where}: expected a non-empty list of stages (lists of op names)`);
  }
  arch.forEach((stage: unknown, si: number) => {
    if (!Array.isArray(stage) || stage.length === 0 || !stage.every((op) => typeof op === 'string' && op !== '')) {
      throw new BoardError(`${where}: stage ${si} must be a non-empty list of op names, got ${JSON.stringify(stage)}`);
    }
  });
  return JSON.stringify(arch);
}

function copyArch(arch: BoardArch): string[][] {
  return arch.map((stage) => [...stage]);
}

function copyEntry(e: BoardEntry): BoardEntry {
  return { ...e, arch: copyArch(e.arch) };
}

function checkScore(accuracy: unknown, flops: unknown, where: string): asserts accuracy is number {
  if (typeof accuracy !== 'number' || !Number.isFinite(accuracy)) {
    throw new BoardError(`${where}: accuracy must be a finite number, got ${String(accuracy)}`);
  }
  if (typeof flops !== 'number' || !Number.isFinite(flops) || flops < 0) {
    throw new BoardError(`${where}: flops must be a finite non-negative number, got ${String(flops)}`);
  }
}

function checkStep(step: unknown, where: string): asserts step is number {
  if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 0) {
    throw new BoardError(`${where}: step must be a non-negative integer, got ${String(step)}`);
  }
}

function asRecord(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BoardError(`${where}: expected an object, got ${JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}

function checkFields(obj: Record<string, unknown>, allowed: string[], where: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) throw new BoardError(`${where}.${k}: unknown field (expected ${allowed.join(', ')})`);
  }
}

function parseEvent(raw: unknown, where: string): BoardEvent {
  const e = asRecord(raw, where);
  const base = ['kind', 'step', 'key', 'accuracy', 'flops'];
  checkStep(e.step, `${where}.step`);
  if (typeof e.key !== 'string') throw new BoardError(`${where}.key: expected a string`);
  checkScore(e.accuracy, e.flops, where);
  const { step, key, accuracy, flops } = e as { step: number; key: string; accuracy: number; flops: number };
  switch (e.kind) {
    case 'enter':
      checkFields(e, [...base, 'replaces'], where);
      if (e.replaces === undefined) return { kind: 'enter', step, key, accuracy, flops };
      if (typeof e.replaces !== 'string') throw new BoardError(`${where}.replaces: expected a string`);
      return { kind: 'enter', step, key, accuracy, flops, replaces: e.replaces };
    case 'exit':
      checkFields(e, [...base, 'replacedBy'], where);
      if (typeof e.replacedBy !== 'string') throw new BoardError(`${where}.replacedBy: expected a string`);
      return { kind: 'exit', step, key, accuracy, flops, replacedBy: e.replacedBy };
    case 'rescore':
      checkFields(e, [...base, 'previousAccuracy'], where);
      checkScore(e.previousAccuracy, flops, `${where}.previousAccuracy`);
      return { kind: 'rescore', step, key, accuracy, flops, previousAccuracy: e.previousAccuracy };
    default:
      throw new BoardError(`${where}.kind: expected "enter", "exit" or "rescore", got ${JSON.stringify(e.kind)}`);
  }
}
