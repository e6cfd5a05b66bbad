// `cream bench ops` without PyTorch, on one case at a small batch: the rounds run and a row comes
// out (speed targets are measured by the benchmark itself, never asserted here).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runOpsBench } from '../../bench/ops.ts';

test('bench ops runs each case once per round and reports one row', async () => {
  const logs: string[] = [];
  const { rows, overhead } = await runOpsBench({
    only: 'mbconv_e6_k3',
    batch: 2,
    runs: 1,
    warmup: 0,
    rounds: 2,
    torch: false,
    log: (m) => logs.push(m),
  });
  assert.equal(rows.length, 1);
  const [row] = rows;
  assert.equal(row.kind, 'block');
  assert.deepEqual(row.shape, [2, 14, 14, 24]);
  assert.ok(row.fwdGflops > 0 && row.fwdBwdGflops > 0 && row.fwdBwdMs > 0);
  assert.equal(row.ratio, null);
  assert.deepEqual(row.roundRatios, []);
  assert.ok(overhead.noopUs > 0);
  assert.equal(overhead.torchAdd8Us, null);
});
