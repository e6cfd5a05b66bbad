// The result files of a search run: board.json (final board and its history), best.json (the
// chosen architecture with FLOPs, params and accuracy) and the plots of the board's paths and all
// scored paths on accuracy vs FLOPs, and of the training curves (PNG and SVG).

import { linePlot, type Plot, type PlotPoint, scatterPlot } from '../io/plot.ts';
import type { RunFolder } from '../io/run-folder.ts';
import type { CreamSearch, SearchResult, StepMetrics } from './search-trainer.ts';

function writePlot(run: RunFolder, name: string, plot: Plot): void {
  run.writeText(`${name}.svg`, plot.toSvg());
  run.writeText(`${name}.png`, plot.toPng());
}

/** Averages `values` over windows so a per-step curve of thousands of points stays readable. */
function smooth(points: PlotPoint[], maxPoints = 400): PlotPoint[] {
  if (points.length <= maxPoints) return points;
  const w = Math.ceil(points.length / maxPoints);
  const out: PlotPoint[] = [];
  for (let i = 0; i < points.length; i += w) {
    const chunk = points.slice(i, i + w);
    out.push({
      x: chunk.reduce((s, p) => s + p.x, 0) / chunk.length,
      y: chunk.reduce((s, p) => s + p.y, 0) / chunk.length,
    });
  }
  return out;
}

export function writeSearchReport(run: RunFolder, search: CreamSearch, result: SearchResult): void {
  const b = result.best;
  run.writeJson('board.json', { board: search.board.toJSON(), candidates: result.candidates });
  run.writeJson('best.json', {
    space: search.config.space,
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
  const mflops = (f: number) => f / 1e6;
  writePlot(
    run,
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
        {
          name: 'final board (re-calibrated, validation)',
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
  writePlot(
    run,
    'training',
    linePlot({
      title: 'Training curves',
      xLabel: 'step',
      yLabel: 'loss / accuracy',
      series: [
        { name: 'loss', points: smooth(metrics.map((m) => ({ x: m.step, y: m.loss }))) },
        { name: 'train accuracy', points: smooth(metrics.map((m) => ({ x: m.step, y: m.trainAccuracy }))) },
        { name: 'kd loss', points: smooth(metrics.filter((m) => m.kd !== null).map((m) => ({ x: m.step, y: m.kd! }))) },
        { name: 'rho', points: smooth(metrics.filter((m) => m.rho !== null).map((m) => ({ x: m.step, y: m.rho! }))) },
      ],
    }),
  );
}
