// The result files of a search run: board.json (final board and its history), best.json (the
// chosen architecture with FLOPs, params and accuracy) and the plots of the board's paths and all
// scored paths on accuracy vs FLOPs, and of the training curves (PNG and SVG).

import { CANDIDATES_FILE, type ScoreLine } from '../baselines/index.ts';
import { linePlot, scatterPlot, smoothPoints } from '../io/plot.ts';
import type { RunFolder } from '../io/run-folder.ts';
import type { CreamSearch, SearchResult, StepMetrics } from './search-trainer.ts';

export function writeSearchReport(run: RunFolder, search: CreamSearch, result: SearchResult): void {
  const b = result.best;
  run.writeJson('board.json', { board: search.board.toJSON(), candidates: result.candidates });
  run.writeJson('best.json', {
    space: search.config.space,
    method: { teacher: search.config.distill.teacher, select: search.config.select.method },
    arch: b.arch,
    flops: b.flops,
    params: b.params,
    validationAccuracy: b.validationAccuracy,
    validationTop5: b.validationTop5,
    boardAccuracy: b.boardAccuracy,
    steps: result.steps,
    seconds: result.seconds,
  });
  const metrics = run.readJsonLines<StepMetrics>('metrics.jsonl');
  const scored = metrics.filter((m) => m.boardAccuracy !== null);
  // Paths an evolution or random search scored (baseline selection), if any.
  const searched = run.readJsonLines<ScoreLine>(CANDIDATES_FILE);
  const mflops = (f: number) => f / 1e6;
  run.writePlot(
    'paths',
    scatterPlot({
      title: 'Paths: accuracy vs FLOPs',
      xLabel: 'MFLOPs (MACs)',
      yLabel: 'board accuracy (%)',
      series: [
        {
          name: 'sampled paths',
          points: scored.map((m) => ({ x: mflops(m.flops), y: 100 * m.boardAccuracy! })),
          color: '#bbbbbb',
        },
        ...(searched.length > 0
          ? [
              {
                name: `${search.config.select.method} candidates (re-calibrated)`,
                points: searched.map((c) => ({ x: mflops(c.flops), y: 100 * c.top1 })),
                color: '#9ecae1',
              },
            ]
          : []),
        {
          name:
            search.config.select.method === 'board'
              ? 'final board (re-calibrated, validation)'
              : 'finalists (re-calibrated, validation)',
          points: result.candidates.map((c) => ({ x: mflops(c.flops), y: 100 * c.validationAccuracy })),
          color: '#1f77b4',
        },
        {
          name: 'chosen',
          points: [{ x: mflops(b.flops), y: 100 * b.validationAccuracy }],
          color: '#d62728',
          marker: 'square',
        },
      ],
    }),
  );
  run.writePlot(
    'training',
    linePlot({
      title: 'Training curves',
      xLabel: 'step',
      yLabel: 'loss / accuracy',
      series: [
        { name: 'loss', points: smoothPoints(metrics.map((m) => ({ x: m.step, y: m.loss }))) },
        { name: 'train accuracy', points: smoothPoints(metrics.map((m) => ({ x: m.step, y: m.trainAccuracy }))) },
        {
          name: 'kd loss',
          points: smoothPoints(metrics.filter((m) => m.kd !== null).map((m) => ({ x: m.step, y: m.kd! }))),
        },
        {
          name: 'rho',
          points: smoothPoints(metrics.filter((m) => m.rho !== null).map((m) => ({ x: m.step, y: m.rho! }))),
        },
      ],
    }),
  );
}
