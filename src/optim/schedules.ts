// Learning-rate schedules as pure functions of the global step.

export type LrSchedule = (step: number) => number;

function checkTotal(name: string, total: number): void {
  if (!Number.isInteger(total) || total <= 0)
    throw new Error(`${name}: totalSteps must be a positive integer, got ${total}`);
}

/** Linear decay from `base` to 0 over `totalSteps`, per step (the Cream supernet schedule). */
export function linearDecay(base: number, totalSteps: number): LrSchedule {
  checkTotal('linearDecay', totalSteps);
  return (step) => base * Math.max(0, 1 - step / totalSteps);
}

/** Linear warm-up from `warmupStart` to `base`, then cosine to `min` (the retraining schedule). */
export function warmupCosine(
  base: number,
  totalSteps: number,
  warmupSteps: number,
  opts: { min?: number; warmupStart?: number } = {},
): LrSchedule {
  checkTotal('warmupCosine', totalSteps);
  if (warmupSteps < 0 || warmupSteps >= totalSteps) {
    throw new Error(`warmupCosine: warmupSteps must be in [0, ${totalSteps}), got ${warmupSteps}`);
  }
  const min = opts.min ?? 0;
  const start = opts.warmupStart ?? base * 0.01;
  return (step) => {
    if (step < warmupSteps) return start + ((base - start) * step) / warmupSteps;
    const t = Math.min(1, (step - warmupSteps) / (totalSteps - warmupSteps));
    return min + 0.5 * (base - min) * (1 + Math.cos(Math.PI * t));
  };
}

/** Multiply by `gamma` every `everySteps` steps. */
export function stepDecay(base: number, everySteps: number, gamma: number): LrSchedule {
  checkTotal('stepDecay', everySteps);
  return (step) => base * gamma ** Math.floor(step / everySteps);
}
