/**
 * The search-space file format (YAML or JSON), validated with zod. Unknown keys are errors that
 * name the key's path (`stages[2].chanels: unknown key`). Defaults are filled in here, so the
 * parsed `SpaceSpec` is complete; `resolve.ts` turns it into per-layer shapes.
 *
 * ```yaml
 * input: { channels: 3, size: 224 }
 * classes: 1000
 * activation: swish          # swish | relu | relu6 | hswish
 * se: 0.25                   # SE reduce = make_divisible(mid * se, 8); 0 = no SE
 * stem: { channels: 16, stride: 2, kernel: 3 }
 * stages:
 *   - { type: ds, channels: 16 }                  # fixed depthwise-separable block
 *   - { channels: 24, stride: 2, layers: 4, template: k3e4 }   # searchable (type: search)
 *   - { type: conv, channels: 320, kernel: 1 }    # fixed ConvBnAct
 * ops: [k3e4, k3e6, k5e4, k5e6, k7e4, k7e6]       # per-stage `ops:` overrides
 * skip: true                 # layers after a stage's first may be `skip`; per-stage `skip:` overrides
 * head: { channels: 320, features: 1280, bias: true, dropout: 0.2 }
 * ```
 */
import { z } from 'zod';
import { formatPath, validateWith } from '../util/validate.ts';
import { SpaceError } from './errors.ts';

export { formatPath };

import { parseOp } from './ops.ts';

const positiveInt = z.number().int().min(1);
const stride = z.union([z.literal(1), z.literal(2)], { error: 'stride must be 1 or 2' });
const oddKernel = z
  .number()
  .int()
  .refine((k) => k >= 1 && k <= 7 && k % 2 === 1, { message: 'kernel must be 1, 3, 5 or 7' });

const opName = z.string().superRefine((name, ctx) => {
  if (name === 'skip') {
    ctx.addIssue({ code: 'custom', message: '"skip" is not listed among ops; set `skip: true` instead' });
    return;
  }
  try {
    parseOp(name);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
  }
});
const opList = z
  .array(opName)
  .min(1)
  .refine((ops) => new Set(ops).size === ops.length, { message: 'ops must not repeat' });

const dsStage = z.strictObject({
  type: z.literal('ds'),
  channels: positiveInt,
  stride: stride.default(1),
  kernel: oddKernel.default(3),
});

const convStage = z.strictObject({
  type: z.literal('conv'),
  channels: positiveInt,
  stride: stride.default(1),
  kernel: oddKernel.default(1),
});

const searchStage = z
  .strictObject({
    type: z.literal('search'),
    channels: positiveInt,
    /** Stride of the stage's first layer; the others have stride 1. */
    stride: stride,
    /** Layers in the supernet (a child network may have more or fewer). */
    layers: positiveInt,
    /** Overrides the space's `ops` for this stage. */
    ops: opList.optional(),
    /** Overrides the space's `skip` for this stage. */
    skip: z.boolean().optional(),
    /** Op a one-layer stage keeps in the official index form (see official.ts). */
    template: z.string().optional(),
  })
  .superRefine((s, ctx) => {
    if (s.template !== undefined) {
      try {
        parseOp(s.template);
      } catch (e) {
        ctx.addIssue({ code: 'custom', path: ['template'], message: (e as Error).message });
      }
    }
  });

const stage = z.preprocess(
  (v) => (v !== null && typeof v === 'object' && !Array.isArray(v) && !('type' in v) ? { type: 'search', ...v } : v),
  z.discriminatedUnion('type', [dsStage, convStage, searchStage], {
    error: () => 'stage type must be "ds", "conv" or "search" (the default)',
  }),
);

export const spaceSchema = z
  .strictObject({
    name: z.string().optional(),
    description: z.string().optional(),
    input: z.strictObject({ channels: positiveInt, size: positiveInt }),
    classes: z.number().int().min(2),
    activation: z.enum(['swish', 'relu', 'relu6', 'hswish']).default('swish'),
    se: z.number().min(0).max(1).default(0.25),
    stem: z.strictObject({ channels: positiveInt, stride: stride.default(2), kernel: oddKernel.default(3) }),
    stages: z.array(stage).min(1),
    ops: opList,
    skip: z.boolean().default(true),
    head: z
      .strictObject({
        /** 1x1 conv + BN + act to this width before pooling (the paper's "stage 6"); absent = none. */
        channels: positiveInt.optional(),
        /** 1x1 conv (+bias) + act to this width after pooling (no BN); absent = none. */
        features: positiveInt.optional(),
        /** Whether the post-pool conv has a bias (timm `head_bias`). */
        bias: z.boolean().default(true),
        dropout: z.number().min(0).max(1).default(0.2),
      })
      .default({ bias: true, dropout: 0.2 }),
  })
  .superRefine((s, ctx) => {
    if (!s.stages.some((st) => st.type === 'search')) {
      ctx.addIssue({ code: 'custom', path: ['stages'], message: 'at least one searchable stage is needed' });
    }
    s.stages.forEach((st, i) => {
      if (st.type !== 'search' || st.template === undefined) return;
      const ops = st.ops ?? s.ops;
      if (!ops.includes(st.template)) {
        ctx.addIssue({
          code: 'custom',
          path: ['stages', i, 'template'],
          message: `template "${st.template}" is not among the stage's ops (${ops.join(', ')})`,
        });
      }
    });
  });

/** The validated contents of a space file, defaults filled in. */
export type SpaceSpec = z.output<typeof spaceSchema>;
export type StageSpec = SpaceSpec['stages'][number];

export function parseSpaceSpec(raw: unknown, source = 'space'): SpaceSpec {
  return validateWith(spaceSchema, raw, source, (m) => new SpaceError(m));
}
