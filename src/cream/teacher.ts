// Phase 1 of Algorithm 1: which path teaches the current student, and with what weight rho.
import type { Supernet } from '../models/index.ts';
import type { Arch, CostTable, SeededRandom } from '../space/index.ts';
import { keep, noGrad, softmax, Tensor, tidy } from '../tensor/index.ts';
import type { BoardEntry } from './board.ts';
import type { MetaMatchingNetwork } from './meta-matching.ts';
import { withBatchStatistics } from './path-evaluator.ts';

export type TeacherMode = 'meta' | 'random' | 'largest' | 'top1' | 'none';

export interface TeacherChoice {
  arch: Arch;
  rho: number;
  /** Board index of the teacher (meta, random, top1). */
  boardIndex?: number;
  /** meta mode: rho of every board path, recorded on the tape w.r.t. the meta network ([K]). */
  scores?: Tensor;
}

/** The path with the most MACs in every layer: the `largest` teacher of the paper's ablation. */
export function largestPath(
  table: CostTable,
  space: { stages: readonly { layerInfo: readonly { candidateNames: readonly string[] }[] }[] },
): Arch {
  return space.stages.map((stage, s) =>
    stage.layerInfo.map((layer, l) => {
      let best = layer.candidateNames[0];
      for (const op of layer.candidateNames)
        if (table.layerCost(s, l, op).macs > table.layerCost(s, l, best).macs) best = op;
      return best;
    }),
  );
}

/**
 * Softmax of a board path's logits on `images`, without a tape, with BN batch statistics (as the
 * official code's teacher forward in training mode) but leaving running statistics untouched.
 */
export function teacherProbabilities(supernet: Supernet, arch: Arch, images: Tensor): Tensor {
  return withBatchStatistics(supernet, [arch], () => tidy(() => softmax(supernet.forward(images, arch))));
}

/**
 * d_k = softmax(teacher_k(slice)) - softmax(student(slice)), flattened, one row per board path
 * ([K, slice * classes]). The student's probabilities come from its own training forward.
 */
export function outputDifferences(
  supernet: Supernet,
  board: BoardEntry[],
  slice: Tensor,
  studentSliceLogits: Float32Array,
): Tensor {
  const n = slice.shape[0];
  const classes = studentSliceLogits.length / n;
  const student = noGrad(() => tidy(() => keep(softmax(Tensor.from(studentSliceLogits, [n, classes])).clone())));
  const width = n * classes;
  const d = Tensor.empty([board.length, width]);
  board.forEach((entry, k) => {
    tidy(() => {
      const t = teacherProbabilities(supernet, entry.arch, slice).f32;
      for (let i = 0; i < width; i++) d.f32[k * width + i] = t[i] - student.f32[i];
    });
  });
  student.dispose();
  return d;
}

export interface ChooseTeacherArgs {
  mode: TeacherMode;
  board: BoardEntry[];
  supernet: Supernet;
  meta: MetaMatchingNetwork;
  /** The first sliceSize images of the batch and the student's logits on them. */
  slice: Tensor;
  studentSliceLogits: Float32Array;
  largest: Arch;
  fixedRho: number;
  rng: SeededRandom;
}

/** Picks the teacher; null when there is none (mode `none`, or an empty board for board modes). */
export function chooseTeacher(a: ChooseTeacherArgs): TeacherChoice | null {
  if (a.mode === 'none') return null;
  if (a.mode === 'largest') return { arch: a.largest, rho: a.fixedRho };
  if (a.board.length === 0) return null;
  if (a.mode === 'random') {
    const k = Math.min(a.board.length - 1, Math.floor(a.rng.next() * a.board.length));
    return { arch: a.board[k].arch, rho: a.fixedRho, boardIndex: k };
  }
  if (a.mode === 'top1') {
    let k = 0;
    a.board.forEach((e, i) => {
      const b = a.board[k];
      if (e.accuracy > b.accuracy || (e.accuracy === b.accuracy && e.flops < b.flops)) k = i;
    });
    return { arch: a.board[k].arch, rho: a.fixedRho, boardIndex: k };
  }
  // meta: rho_k = sigmoid(M(d_k)); teacher = argmax_k rho_k.
  const d = outputDifferences(a.supernet, a.board, a.slice, a.studentSliceLogits);
  const scores = a.meta.matchingScores(d);
  const rhos = scores.f32;
  let k = 0;
  for (let i = 1; i < rhos.length; i++) if (rhos[i] > rhos[k]) k = i;
  return { arch: a.board[k].arch, rho: rhos[k], boardIndex: k, scores };
}
