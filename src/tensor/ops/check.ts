// Input checks shared by ops: messages name the op, the argument and the shapes.
import { type Shape, shapeString, type Tensor } from '../tensor.ts';

export function sameShape(op: string, a: Tensor, b: Tensor, names: [string, string] = ['a', 'b']): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(
      `${op}: ${names[0]} ${shapeString(a.shape)} and ${names[1]} ${shapeString(b.shape)} must have the same shape`,
    );
  }
}

export function rank(op: string, t: Tensor, expected: number, name = 'x'): void {
  if (t.rank !== expected) {
    throw new Error(`${op}: ${name} must have rank ${expected}, got shape ${shapeString(t.shape)}`);
  }
}

export function shapeIs(op: string, t: Tensor, expected: Shape, name: string): void {
  if (t.shape.length !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
    throw new Error(`${op}: ${name} must have shape ${shapeString(expected)}, got ${shapeString(t.shape)}`);
  }
}

export function float32(op: string, t: Tensor, name = 'x'): void {
  if (t.dtype !== 'float32') throw new Error(`${op}: ${name} must be float32, got ${t.dtype}`);
}
