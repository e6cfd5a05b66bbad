// Worker bootstrap: the project runs TypeScript through tsx without a build step, and a worker
// thread does not inherit the parent's module hooks, so register tsx here before loading the
// TypeScript worker module (the same pattern as bin/cream.mjs).
import { register } from 'tsx/esm/api';

register();
await import('./batch-worker.ts');
