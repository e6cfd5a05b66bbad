// PyTorch fixtures (JSON written by scripts/fixtures/*.py): loading and comparing tensors.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Tensor } from '../../src/tensor/index.ts';

export interface FixtureTensor {
  shape: number[];
  data: number[];
}
export type Fixture = Record<string, Record<string, FixtureTensor>>;

/** Reads test/fixtures/torch/<name>. */
export function readTorchFixture(name: string): Fixture {
  return JSON.parse(readFileSync(new URL(`../fixtures/torch/${name}`, import.meta.url), 'utf8')) as Fixture;
}

export function load(t: FixtureTensor): Tensor {
  return Tensor.from(t.data, t.shape);
}

/** max |a - b| <= abs + rel * |b| elementwise. */
export function assertClose(actual: Tensor, expected: FixtureTensor, abs: number, rel: number, what: string): void {
  assert.deepEqual([...actual.shape], expected.shape, `${what}: shape`);
  const a = actual.f32;
  for (let i = 0; i < a.length; i++) {
    const e = expected.data[i];
    const err = Math.abs(a[i] - e);
    assert.ok(
      err <= abs + rel * Math.abs(e),
      `${what}[${i}]: got ${a[i]}, PyTorch ${e} (|diff| ${err.toExponential(2)})`,
    );
  }
}
