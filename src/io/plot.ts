/**
 * Dependency-free plots for run reports: scatter plots (accuracy vs FLOPs of board paths, rank
 * correlation) and line plots (training curves). One layout feeds two renderers, SVG text and
 * PNG bytes (own rasteriser, plot-raster.ts, and encoder, png.ts), so both show the same picture.
 *
 * Non-finite points (a NaN loss) are skipped; in a line plot they break the line. Axis ranges
 * come from the data (or `xRange`/`yRange`), widened to round ticks; drawing is clipped to the
 * plot area.
 */

import { GLYPH_HEIGHT, textWidth } from './plot-font.ts';
import { Canvas, parseHexColor, type Rgb } from './plot-raster.ts';
import { niceTicks, type Ticks } from './plot-ticks.ts';
import { encodePng } from './png.ts';

export interface PlotPoint {
  x: number;
  y: number;
}

export type PlotMarker = 'circle' | 'square' | 'none';

export interface PlotSeries {
  name: string;
  points: readonly PlotPoint[];
  /** '#rrggbb'; default: the next colour of the matplotlib "tab10" palette. */
  color?: string;
  /** Default: 'circle' in scatter plots, 'none' in line plots. */
  marker?: PlotMarker;
}

export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly PlotSeries[];
  /** Pixels; default 800 x 500. */
  width?: number;
  height?: number;
  /** Fixed axis ranges (still widened to round ticks); default: the data's range. */
  xRange?: readonly [number, number];
  yRange?: readonly [number, number];
}

export interface Plot {
  readonly width: number;
  readonly height: number;
  toSvg(): string;
  toPng(): Uint8Array;
  /** Where the data point (x, y) lands, in pixels from the top-left corner (same in SVG and PNG). */
  pixelOf(x: number, y: number): { px: number; py: number };
}

/** Points as markers, no lines. */
export function scatterPlot(options: PlotOptions): Plot {
  return new PlotImpl(options, 'scatter');
}

/** Each series as a line through its points in the given order (training curves). */
export function linePlot(options: PlotOptions): Plot {
  return new PlotImpl(options, 'line');
}

const PALETTE = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];
const INK = '#222222';
const GRID = '#e5e5e5';
const BACKGROUND = '#ffffff';
/** Font pixel scale: the 5x8 font drawn at 2x is about as tall as 12 px text. */
const TEXT_SCALE = 2;
const TEXT_HEIGHT = 7 * TEXT_SCALE; // cap height, without the descender row
const FONT_SIZE = 13; // SVG monospace size whose advance (~7.8 px) stays inside the bitmap layout
const PAD = 12;
const TICK = 5;
const LEGEND_ROW = GLYPH_HEIGHT * TEXT_SCALE + 8;
const LINE_WIDTH = 2;
const MARKER_RADIUS = 4;

interface ResolvedSeries {
  name: string;
  color: string;
  rgb: Rgb;
  marker: PlotMarker;
  line: boolean;
  /** Runs of consecutive finite points (a non-finite point ends a run). */
  runs: PlotPoint[][];
}

class PlotImpl implements Plot {
  readonly width: number;
  readonly height: number;
  private readonly series: ResolvedSeries[];
  private readonly xTicks: Ticks;
  private readonly yTicks: Ticks;
  /** Plot area in pixels. */
  private readonly area: { x0: number; y0: number; x1: number; y1: number };
  private readonly legendX: number;
  private readonly legendBelow: boolean;
  /** Where the x-axis label's baseline sits (the legend, when below, starts under it). */
  private readonly xLabelBaseline: number;

  constructor(
    private readonly options: PlotOptions,
    kind: 'scatter' | 'line',
  ) {
    this.width = options.width ?? 800;
    this.height = options.height ?? 500;
    for (const [what, v] of [
      ['width', this.width],
      ['height', this.height],
    ] as const) {
      if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`plot ${what} must be a positive integer, got ${v}`);
    }
    this.series = options.series.map((s, i) => {
      const color = s.color ?? PALETTE[i % PALETTE.length];
      const runs: PlotPoint[][] = [[]];
      for (const p of s.points) {
        if (Number.isFinite(p.x) && Number.isFinite(p.y)) runs[runs.length - 1].push(p);
        else if (runs[runs.length - 1].length > 0) runs.push([]);
      }
      return {
        name: s.name,
        color,
        rgb: parseHexColor(color, `series ${JSON.stringify(s.name)}`),
        marker: s.marker ?? (kind === 'scatter' ? 'circle' : 'none'),
        line: kind === 'line',
        runs: runs.filter((r) => r.length > 0),
      };
    });
    const all = this.series.flatMap((s) => s.runs.flat());
    // Scatter markers get a little room so that none sits half outside the frame.
    const pad = kind === 'scatter' ? 0.03 : 0;
    this.xTicks = niceTicks(
      ...range(
        options.xRange,
        all.map((p) => p.x),
        'xRange',
        pad,
      ),
    );
    this.yTicks = niceTicks(
      ...range(
        options.yRange,
        all.map((p) => p.y),
        'yRange',
        pad,
      ),
    );

    // Margins are measured in bitmap-font pixels; the SVG uses the same numbers.
    const yLabelWidth = Math.max(...this.yTicks.labels.map((l) => textWidth(l, TEXT_SCALE)));
    const legend = this.legendEntries();
    const legendWidth = legend.length
      ? PAD + 24 + 6 + Math.max(...legend.map((s) => textWidth(s.name, TEXT_SCALE))) + PAD
      : PAD;
    // A legend wider than a quarter of the image goes under the plot, so the data keep the width
    // (long series names squeezed the search's accuracy-vs-FLOPs plot into a third of it).
    this.legendBelow = legend.length > 0 && legendWidth > this.width / 4;
    const xAxisHeight = TICK + 4 + TEXT_HEIGHT + (options.xLabel ? PAD + TEXT_HEIGHT : 0);
    const legendHeight = this.legendBelow ? PAD + (legend.length - 1) * LEGEND_ROW + TEXT_HEIGHT : 0;
    this.area = {
      x0: PAD + (options.yLabel ? TEXT_HEIGHT + PAD : 0) + yLabelWidth + TICK + 4,
      y0: PAD + (options.title ? TEXT_HEIGHT + PAD : 0),
      x1: this.width - (this.legendBelow ? PAD : legendWidth),
      y1: this.height - (xAxisHeight + legendHeight + PAD),
    };
    this.xLabelBaseline = this.area.y1 + xAxisHeight;
    this.legendX = this.legendBelow ? this.area.x0 : this.area.x1 + PAD;
    if (this.area.x1 - this.area.x0 < 20 || this.area.y1 - this.area.y0 < 20) {
      throw new RangeError(`plot ${this.width} x ${this.height} is too small for its labels and legend`);
    }
  }

  pixelOf(x: number, y: number): { px: number; py: number } {
    const { x0, y0, x1, y1 } = this.area;
    return {
      px: x0 + ((x - this.xTicks.min) / (this.xTicks.max - this.xTicks.min)) * (x1 - x0),
      py: y1 - ((y - this.yTicks.min) / (this.yTicks.max - this.yTicks.min)) * (y1 - y0),
    };
  }

  toSvg(): string {
    const { x0, y0, x1, y1 } = this.area;
    const o = this.options;
    const out: string[] = [];
    const text = (x: number, y: number, s: string, anchor: string, extra = '') =>
      out.push(`<text x="${fmt(x)}" y="${fmt(y)}" text-anchor="${anchor}"${extra}>${escapeXml(s)}</text>`);
    out.push(
      `<svg xmlns="http://www.w3.org/2000/svg" width="${this.width}" height="${this.height}" viewBox="0 0 ${this.width} ${this.height}" font-family="monospace" font-size="${FONT_SIZE}" fill="${INK}">`,
      `<rect width="100%" height="100%" fill="${BACKGROUND}"/>`,
      `<clipPath id="plot-area"><rect x="${x0}" y="${y0}" width="${x1 - x0}" height="${y1 - y0}"/></clipPath>`,
    );
    if (o.title) text((x0 + x1) / 2, PAD + TEXT_HEIGHT, o.title, 'middle', ' font-weight="bold"');
    out.push('<g class="grid" stroke-width="1">');
    this.xTicks.values.forEach((v, i) => {
      const { px } = this.pixelOf(v, 0);
      out.push(`<line x1="${fmt(px)}" y1="${y0}" x2="${fmt(px)}" y2="${y1 + TICK}" stroke="${GRID}"/>`);
      text(px, y1 + TICK + 4 + TEXT_HEIGHT, this.xTicks.labels[i], 'middle');
    });
    this.yTicks.values.forEach((v, i) => {
      const { py } = this.pixelOf(0, v);
      out.push(`<line x1="${x0 - TICK}" y1="${fmt(py)}" x2="${x1}" y2="${fmt(py)}" stroke="${GRID}"/>`);
      text(x0 - TICK - 4, py + TEXT_HEIGHT / 2, this.yTicks.labels[i], 'end');
    });
    out.push('</g>');
    out.push(`<rect x="${x0}" y="${y0}" width="${x1 - x0}" height="${y1 - y0}" fill="none" stroke="${INK}"/>`);
    if (o.xLabel) text((x0 + x1) / 2, this.xLabelBaseline, o.xLabel, 'middle');
    if (o.yLabel) {
      const cx = PAD + TEXT_HEIGHT;
      const cy = (y0 + y1) / 2;
      text(cx, cy, o.yLabel, 'middle', ` transform="rotate(-90 ${fmt(cx)} ${fmt(cy)})"`);
    }
    for (const s of this.series) {
      out.push(`<g class="series" data-name="${escapeXml(s.name)}" clip-path="url(#plot-area)">`);
      for (const run of s.runs) {
        if (s.line && run.length > 1) {
          const pts = run.map((p) => this.pixelOf(p.x, p.y)).map(({ px, py }) => `${fmt(px)},${fmt(py)}`);
          out.push(
            `<polyline points="${pts.join(' ')}" fill="none" stroke="${s.color}" stroke-width="${LINE_WIDTH}" stroke-linejoin="round"/>`,
          );
        }
        for (const p of run) out.push(svgMarker(s.marker, this.pixelOf(p.x, p.y), s.color));
      }
      out.push('</g>');
    }
    this.legendEntries().forEach((s, i) => {
      const cy = this.legendY(i);
      if (s.line) {
        out.push(
          `<line x1="${this.legendX}" y1="${cy}" x2="${this.legendX + 24}" y2="${cy}" stroke="${s.color}" stroke-width="${LINE_WIDTH}"/>`,
        );
      }
      out.push(
        svgMarker(s.marker === 'none' && !s.line ? 'circle' : s.marker, { px: this.legendX + 12, py: cy }, s.color),
      );
      text(this.legendX + 30, cy + TEXT_HEIGHT / 2, s.name, 'start');
    });
    out.push('</svg>');
    return `${out.join('\n')}\n`;
  }

  toPng(): Uint8Array {
    const { x0, y0, x1, y1 } = this.area;
    const o = this.options;
    const ink = parseHexColor(INK, 'ink');
    const canvas = new Canvas(this.width, this.height, parseHexColor(BACKGROUND, 'background'));
    const grid = parseHexColor(GRID, 'grid');
    // Text is placed by its cap-height box, so labels line up with the SVG baselines.
    const label = (s: string, x: number, yTop: number, anchor: 'start' | 'middle' | 'end') => {
      const w = textWidth(s, TEXT_SCALE);
      const left = anchor === 'start' ? x : anchor === 'middle' ? x - w / 2 : x - w;
      canvas.drawText(s, left, yTop, TEXT_SCALE, ink);
    };
    if (o.title) label(o.title, (x0 + x1) / 2, PAD, 'middle');
    this.xTicks.values.forEach((v, i) => {
      const px = Math.floor(this.pixelOf(v, 0).px);
      canvas.fillRect(px, y0, 1, y1 - y0 + TICK, grid);
      label(this.xTicks.labels[i], px + 0.5, y1 + TICK + 4, 'middle');
    });
    this.yTicks.values.forEach((v, i) => {
      const py = Math.floor(this.pixelOf(0, v).py);
      canvas.fillRect(x0 - TICK, py, x1 - x0 + TICK, 1, grid);
      label(this.yTicks.labels[i], x0 - TICK - 4, py + 0.5 - TEXT_HEIGHT / 2, 'end');
    });
    // Frame: 1-pixel lines just outside the plot area.
    canvas.fillRect(x0 - 1, y0 - 1, x1 - x0 + 2, 1, ink);
    canvas.fillRect(x0 - 1, y1, x1 - x0 + 2, 1, ink);
    canvas.fillRect(x0 - 1, y0 - 1, 1, y1 - y0 + 2, ink);
    canvas.fillRect(x1, y0 - 1, 1, y1 - y0 + 2, ink);
    if (o.xLabel) label(o.xLabel, (x0 + x1) / 2, this.xLabelBaseline - TEXT_HEIGHT, 'middle');
    if (o.yLabel) {
      const w = textWidth(o.yLabel, TEXT_SCALE);
      canvas.drawText(o.yLabel, PAD, (y0 + y1) / 2 + w / 2, TEXT_SCALE, ink, true);
    }

    canvas.clip = { x0, y0, x1, y1 };
    for (const s of this.series) {
      for (const run of s.runs) {
        const pixels = run.map((p) => this.pixelOf(p.x, p.y));
        if (s.line && run.length > 1)
          canvas.strokePolyline(
            pixels.flatMap((p) => [p.px, p.py]),
            s.rgb,
            LINE_WIDTH,
          );
        for (const p of pixels) drawMarker(canvas, s.marker, p.px, p.py, s.rgb);
      }
    }
    canvas.clip = { x0: 0, y0: 0, x1: this.width, y1: this.height };
    this.legendEntries().forEach((s, i) => {
      const cy = this.legendY(i);
      if (s.line) canvas.strokePolyline([this.legendX, cy, this.legendX + 24, cy], s.rgb, LINE_WIDTH);
      drawMarker(canvas, s.marker === 'none' && !s.line ? 'circle' : s.marker, this.legendX + 12, cy, s.rgb);
      label(s.name, this.legendX + 30, cy - TEXT_HEIGHT / 2, 'start');
    });
    return encodePng(this.width, this.height, canvas.rgba);
  }

  private legendEntries(): ResolvedSeries[] {
    return this.series.filter((s) => s.name !== '');
  }

  /** The centre line of legend entry i. */
  private legendY(i: number): number {
    const top = this.legendBelow ? this.xLabelBaseline + PAD : this.area.y0 + PAD;
    return top + TEXT_HEIGHT / 2 + i * LEGEND_ROW;
  }
}

function range(
  fixed: readonly [number, number] | undefined,
  values: number[],
  what: string,
  pad: number,
): [number, number] {
  if (fixed) {
    if (!(Number.isFinite(fixed[0]) && Number.isFinite(fixed[1]) && fixed[0] < fixed[1])) {
      throw new RangeError(`plot ${what} must be [min, max] with finite min < max, got [${fixed}]`);
    }
    return [fixed[0], fixed[1]];
  }
  if (values.length === 0) return [0, 1];
  // A loop, not Math.min(...values): a long training curve would overflow the argument stack.
  let lo = values[0];
  let hi = values[0];
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo - (hi - lo) * pad, hi + (hi - lo) * pad];
}

function drawMarker(canvas: Canvas, marker: PlotMarker, px: number, py: number, rgb: Rgb): void {
  if (marker === 'circle') canvas.fillCircle(px, py, MARKER_RADIUS, rgb);
  else if (marker === 'square') canvas.fillSquare(px, py, MARKER_RADIUS - 0.5, rgb);
}

function svgMarker(marker: PlotMarker, { px, py }: { px: number; py: number }, color: string): string {
  if (marker === 'circle') return `<circle cx="${fmt(px)}" cy="${fmt(py)}" r="${MARKER_RADIUS}" fill="${color}"/>`;
  if (marker === 'square') {
    const h = MARKER_RADIUS - 0.5;
    return `<rect x="${fmt(px - h)}" y="${fmt(py - h)}" width="${2 * h}" height="${2 * h}" fill="${color}"/>`;
  }
  return '';
}

/** Coordinates with at most 2 decimals keep the SVG small and stable. */
function fmt(v: number): string {
  return String(Math.round(v * 100) / 100);
}

function escapeXml(s: string): string {
  return s.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string,
  );
}

/** Window means, so a per-step curve of thousands of points stays readable. */
export function smoothPoints(points: readonly PlotPoint[], maxPoints = 400): PlotPoint[] {
  if (points.length <= maxPoints) return [...points];
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
