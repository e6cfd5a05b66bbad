// The result files of a retraining run: result.json (scores of the EMA and raw weights on the
// validation and test splits, FLOPs, params) and the training curves (PNG and SVG): per-step loss
// and training accuracy, and per-epoch validation accuracy of the EMA weights with the learning rate.

import { linePlot, smoothPoints } from '../io/plot.ts';
import type { RunFolder } from '../io/run-folder.ts';
import type { RetrainEpochMetrics, RetrainMetrics, RetrainResult, RetrainStepMetrics } from './retrain-trainer.ts';

export function writeRetrainReport(run: RunFolder, result: RetrainResult): void {
  run.writeJson('result.json', result);
  const rows = run.readJsonLines<RetrainMetrics>('metrics.jsonl');
  const steps = rows.filter((r): r is RetrainStepMetrics => r.kind === 'step');
  const epochs = rows.filter((r): r is RetrainEpochMetrics => r.kind === 'epoch');
  run.writePlot(
    'training',
    linePlot({
      title: 'Retraining: loss and training accuracy per step',
      xLabel: 'step',
      yLabel: 'loss / accuracy',
      series: [
        { name: 'loss (label-smoothed CE)', points: smoothPoints(steps.map((m) => ({ x: m.step, y: m.loss }))) },
        {
          name: 'train accuracy (augmented)',
          points: smoothPoints(steps.map((m) => ({ x: m.step, y: m.trainAccuracy }))),
        },
      ],
    }),
  );
  const peakLr = Math.max(...steps.map((m) => m.lr), 0);
  run.writePlot(
    'accuracy',
    linePlot({
      title: 'Retraining: accuracy per epoch',
      xLabel: 'epoch',
      yLabel: 'top-1 (%)',
      series: [
        {
          name: 'validation, EMA weights',
          points: epochs.filter((e) => e.valTop1 !== null).map((e) => ({ x: e.epoch + 1, y: 100 * e.valTop1! })),
          marker: 'circle',
        },
        { name: 'train (augmented)', points: epochs.map((e) => ({ x: e.epoch + 1, y: 100 * e.trainAccuracy })) },
        ...(peakLr > 0
          ? [
              {
                name: `learning rate (100 = ${peakLr.toPrecision(3)})`,
                points: epochs.map((e) => ({ x: e.epoch + 1, y: (100 * e.lr) / peakLr })),
              },
            ]
          : []),
      ],
    }),
  );
}
