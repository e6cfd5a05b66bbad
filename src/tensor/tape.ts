// Reverse-mode autodiff, define-by-run. Ops call `record` after computing their output; the node is
// kept only when some input requires grad and recording is on. `backward` walks nodes in reverse
// topological order and frees each intermediate gradient as soon as it has been consumed.

import { native } from './native.ts';
import { keep } from './scope.ts';
import { type Shape, shapeString, type TapeNode, Tensor } from './tensor.ts';

let recording = true;

export function isRecording(): boolean {
  return recording;
}

/** Runs `fn` without recording (inference, teacher forwards, optimiser updates). */
export function noGrad<T>(fn: () => T): T {
  const prev = recording;
  recording = false;
  try {
    return fn();
  } finally {
    recording = prev;
  }
}

/** Whether an op with these inputs must record a node. */
export function needsGrad(inputs: readonly (Tensor | null | undefined)[]): boolean {
  return recording && inputs.some((t) => t?.requiresGrad);
}

/** Records `output = op(inputs)` with its backward closure, when any input requires grad. */
export function record(
  op: string,
  output: Tensor,
  inputs: readonly (Tensor | null | undefined)[],
  backward: (gradOut: Tensor) => (Tensor | null)[],
): Tensor {
  if (!needsGrad(inputs)) return output;
  const present = inputs.map((t) => t ?? null);
  output.requiresGrad = true;
  output.node = {
    op,
    inputs: present.filter((t): t is Tensor => t !== null),
    backward: (g) => {
      // Map the closure's per-argument results onto the non-null inputs.
      const grads = backward(g);
      const out: (Tensor | null)[] = [];
      present.forEach((t, i) => {
        if (t !== null) out.push(grads[i] ?? null);
        else grads[i]?.dispose();
      });
      return out;
    },
  } satisfies TapeNode;
  return output;
}

function checkGradShape(op: string, input: Tensor, grad: Tensor): void {
  if (grad.size !== input.size) {
    throw new Error(
      `${op} backward: gradient ${shapeString(grad.shape)} does not match input ${shapeString(input.shape)}`,
    );
  }
}

/** Returns acc + g, consuming both; in place when acc's storage is not shared. */
function accumulate(acc: Tensor, g: Tensor): Tensor {
  if (!acc.exclusive) {
    const sum = acc.clone();
    acc.dispose();
    acc = sum;
  }
  native.axpy(acc.f32, g.f32, 1);
  g.dispose();
  return acc;
}

export interface BackwardOptions {
  /**
   * Keep the recorded graph so another backward can run through it (the meta update takes the
   * gradients of two losses of one forward). By default each node is dropped once used.
   */
  retainGraph?: boolean;
}

/**
 * Back-propagates from `root` (a scalar unless `gradRoot` is given). Gradients of leaves that
 * require grad accumulate into `leaf.grad`; those tensors are kept outside any scope.
 */
export function backward(root: Tensor, gradRoot?: Tensor, opts: BackwardOptions = {}): void {
  if (!root.requiresGrad) throw new Error('backward: the tensor does not require grad (nothing was recorded)');
  if (!gradRoot && root.size !== 1) {
    throw new Error(`backward: root has shape ${shapeString(root.shape)}; pass its gradient or reduce it to a scalar`);
  }
  // Topological order by iterative DFS.
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const inputs = top[0].node?.inputs ?? [];
    if (top[1] < inputs.length) {
      const next = inputs[top[1]++];
      if (next.requiresGrad && !visited.has(next)) {
        visited.add(next);
        stack.push([next, 0]);
      }
    } else {
      order.push(top[0]);
      stack.pop();
    }
  }

  const grads = new Map<Tensor, Tensor>();
  grads.set(root, gradRoot ? gradRoot.share() : Tensor.full(root.shape, 1));
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i];
    const g = grads.get(t);
    if (!g) continue;
    grads.delete(t);
    if (!t.node) {
      // A leaf: accumulate into .grad, which outlives the step's scope.
      if (t.grad) t.grad = keep(accumulate(t.grad, g));
      else {
        t.grad = keep(g.share(t.shape));
        g.dispose();
      }
      continue;
    }
    const node = t.node;
    const inputGrads = node.backward(g);
    g.dispose();
    node.inputs.forEach((input, k) => {
      const ig = inputGrads[k];
      if (!ig) return;
      if (!input.requiresGrad) {
        ig.dispose();
        return;
      }
      checkGradShape(node.op, input, ig);
      const prev = grads.get(input);
      grads.set(input, prev ? accumulate(prev, ig) : ig);
    });
    // Dropping the node frees the closures' references.
    if (!opts.retainGraph) t.node = null;
  }
}

/** Reshape helper shared by ops: the gradient of a view is the gradient reshaped back. */
export function reshapeGrad(g: Tensor, shape: Shape): Tensor {
  return g.share(shape);
}
