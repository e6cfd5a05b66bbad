/**
 * An RGBA canvas with the few anti-aliased primitives plots need: rectangles, polylines of any
 * width, filled circles and squares, and bitmap text (plot-font.ts), all clipped to a rectangle.
 *
 * Lines are rasterised by distance to the segment (coverage = how much of the pen's disc reaches
 * the pixel centre), accumulated as the *maximum* over a polyline's segments so that joints are
 * not painted twice, then composited once. That gives smooth lines of any width with no
 * double-darkened joints, at a cost proportional to the pixels the line touches.
 */
import { GLYPH_ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH, glyph } from './plot-font.ts';

export type Rgb = readonly [number, number, number];

export interface ClipRect {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** '#rrggbb' -> [r, g, b]; throws naming `what` otherwise. */
export function parseHexColor(color: string, what: string): Rgb {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color);
  if (!m) throw new RangeError(`${what}: colour must be "#rrggbb", got ${JSON.stringify(color)}`);
  return [Number.parseInt(m[1], 16), Number.parseInt(m[2], 16), Number.parseInt(m[3], 16)];
}

export class Canvas {
  readonly rgba: Uint8Array;
  /** Pixels outside this rectangle (inclusive-exclusive, in pixels) are never painted. */
  clip: ClipRect;

  constructor(
    readonly width: number,
    readonly height: number,
    background: Rgb,
  ) {
    this.rgba = new Uint8Array(width * height * 4);
    for (let i = 0; i < width * height; i++) this.rgba.set([background[0], background[1], background[2], 255], i * 4);
    this.clip = { x0: 0, y0: 0, x1: width, y1: height };
  }

  /** Blend `color` over pixel (x, y) with opacity `alpha` in [0, 1]. */
  blend(x: number, y: number, color: Rgb, alpha: number): void {
    const { clip } = this;
    if (alpha <= 0 || x < clip.x0 || y < clip.y0 || x >= clip.x1 || y >= clip.y1) return;
    const i = (y * this.width + x) * 4;
    const a = Math.min(1, alpha);
    for (let c = 0; c < 3; c++) this.rgba[i + c] = Math.round(this.rgba[i + c] * (1 - a) + color[c] * a);
  }

  fillRect(x: number, y: number, w: number, h: number, color: Rgb): void {
    for (let py = Math.max(0, Math.floor(y)); py < Math.min(this.height, Math.ceil(y + h)); py++) {
      for (let px = Math.max(0, Math.floor(x)); px < Math.min(this.width, Math.ceil(x + w)); px++) {
        this.blend(px, py, color, 1);
      }
    }
  }

  /** A polyline through `points` ([x0, y0, x1, y1, ...] in pixel coordinates, pixel centres at +0.5). */
  strokePolyline(points: ArrayLike<number>, color: Rgb, lineWidth: number): void {
    if (points.length < 4) return;
    const radius = lineWidth / 2;
    const cover = new Map<number, number>();
    for (let i = 0; i + 3 < points.length; i += 2) {
      segmentCoverage(points[i], points[i + 1], points[i + 2], points[i + 3], radius, this.width, this.height, cover);
    }
    for (const [index, alpha] of cover) this.blend(index % this.width, Math.floor(index / this.width), color, alpha);
  }

  /** Filled disc centred at (cx, cy). */
  fillCircle(cx: number, cy: number, radius: number, color: Rgb): void {
    for (let py = Math.floor(cy - radius - 1); py <= Math.ceil(cy + radius + 1); py++) {
      for (let px = Math.floor(cx - radius - 1); px <= Math.ceil(cx + radius + 1); px++) {
        if (px < 0 || py < 0 || px >= this.width || py >= this.height) continue;
        const d = Math.hypot(px + 0.5 - cx, py + 0.5 - cy);
        this.blend(px, py, color, clamp01(radius + 0.5 - d));
      }
    }
  }

  /** Filled square of side 2 * half centred at (cx, cy), with anti-aliased edges. */
  fillSquare(cx: number, cy: number, half: number, color: Rgb): void {
    for (let py = Math.floor(cy - half - 1); py <= Math.ceil(cy + half + 1); py++) {
      for (let px = Math.floor(cx - half - 1); px <= Math.ceil(cx + half + 1); px++) {
        if (px < 0 || py < 0 || px >= this.width || py >= this.height) continue;
        const d = Math.max(Math.abs(px + 0.5 - cx), Math.abs(py + 0.5 - cy));
        this.blend(px, py, color, clamp01(half + 0.5 - d));
      }
    }
  }

  /**
   * Bitmap text with its top-left corner at (x, y), each font pixel a scale x scale block. With
   * `vertical`, the text runs bottom to top (a y-axis label) and (x, y) is its bottom-left corner.
   */
  drawText(text: string, x: number, y: number, scale: number, color: Rgb, vertical = false): void {
    let pen = 0;
    for (const ch of text) {
      const rows = glyph(ch);
      for (let gy = 0; gy < GLYPH_HEIGHT; gy++) {
        for (let gx = 0; gx < GLYPH_WIDTH; gx++) {
          if (!(rows[gy] & (1 << (GLYPH_WIDTH - 1 - gx)))) continue;
          const u = (pen + gx) * scale;
          const v = gy * scale;
          if (vertical) this.fillRect(Math.round(x + v), Math.round(y - u - scale), scale, scale, color);
          else this.fillRect(Math.round(x + u), Math.round(y + v), scale, scale, color);
        }
      }
      pen += GLYPH_ADVANCE;
    }
  }
}

/** Adds the coverage of one thick segment to `cover` (pixel index -> max alpha). */
function segmentCoverage(
  ax: number,
  ay: number,
  bx: number,
  by: number,
  radius: number,
  width: number,
  height: number,
  cover: Map<number, number>,
): void {
  const reach = radius + 1;
  const dx = bx - ax;
  const dy = by - ay;
  const lengthSq = dx * dx + dy * dy;
  const length = Math.sqrt(lengthSq);
  const yStart = Math.max(0, Math.floor(Math.min(ay, by) - reach));
  const yEnd = Math.min(height - 1, Math.ceil(Math.max(ay, by) + reach));
  for (let py = yStart; py <= yEnd; py++) {
    const cy = py + 0.5;
    // Limit the row to where the band |distance to the infinite line| <= reach crosses it,
    // so a long diagonal costs O(length * width), not the area of its bounding box.
    let xLo = Math.min(ax, bx) - reach;
    let xHi = Math.max(ax, bx) + reach;
    if (length > 0 && Math.abs(dy) > 1e-9) {
      const xc = ax + ((cy - ay) * dx) / dy;
      const half = (reach * length) / Math.abs(dy);
      xLo = Math.max(xLo, xc - half);
      xHi = Math.min(xHi, xc + half);
    }
    for (let px = Math.max(0, Math.floor(xLo)); px <= Math.min(width - 1, Math.ceil(xHi)); px++) {
      const cx = px + 0.5;
      const t = lengthSq === 0 ? 0 : clamp01(((cx - ax) * dx + (cy - ay) * dy) / lengthSq);
      const d = Math.hypot(cx - (ax + t * dx), cy - (ay + t * dy));
      const alpha = clamp01(radius + 0.5 - d);
      if (alpha <= 0) continue;
      const index = py * width + px;
      if (alpha > (cover.get(index) ?? 0)) cover.set(index, alpha);
    }
  }
}

function clamp01(v: number): number {
  return Math.max(0, Math.min(1, v));
}
