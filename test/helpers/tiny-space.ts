// A small search space for fast tests: 8x8 grey input, two searchable stages, 3 classes.
import { type SearchSpace, spaceFromData } from '../../src/space/index.ts';

export function tinySpace(overrides: Record<string, unknown> = {}): SearchSpace {
  return spaceFromData(
    {
      input: { channels: 1, size: 8 },
      classes: 3,
      activation: 'swish',
      se: 0.25,
      stem: { channels: 8, stride: 1 },
      stages: [
        { type: 'ds', channels: 8 },
        { channels: 16, stride: 2, layers: 2 },
        { channels: 16, stride: 1, layers: 2 },
      ],
      ops: ['k3e2', 'k5e2', 'k3e4'],
      skip: true,
      head: { channels: 32, features: 24, dropout: 0 },
      ...overrides,
    },
    'tiny',
  );
}
