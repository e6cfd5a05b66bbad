import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as zlib from 'node:zlib';
import { PNG } from 'pngjs';
import { linePlot, type PlotOptions, scatterPlot } from '../../src/io/plot.ts';
import { textWidth } from '../../src/io/plot-font.ts';
import { niceTicks } from '../../src/io/plot-ticks.ts';
import { crc32, encodePng } from '../../src/io/png.ts';

/** Reads the chunks of a PNG, checking the signature and every CRC on the way. */
function pngChunks(bytes: Uint8Array): { type: string; data: Buffer }[] {
  const buf = Buffer.from(bytes);
  assert.deepEqual([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  const chunks: { type: string; data: Buffer }[] = [];
  for (let off = 8; off < buf.length; ) {
    const length = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + length);
    // node:zlib's crc32 is an independent implementation of the same checksum.
    assert.equal(
      buf.readUInt32BE(off + 8 + length),
      zlib.crc32(buf.subarray(off + 4, off + 8 + length)),
      `${type} CRC`,
    );
    chunks.push({ type, data });
    off += 12 + length;
  }
  return chunks;
}

function pixel(png: PNG, x: number, y: number): [number, number, number, number] {
  const i = (Math.floor(y) * png.width + Math.floor(x)) * 4;
  return [png.data[i], png.data[i + 1], png.data[i + 2], png.data[i + 3]];
}

const scatterOptions: PlotOptions = {
  title: 'Board: accuracy vs FLOPs',
  xLabel: 'FLOPs',
  yLabel: 'top-1 %',
  series: [
    {
      name: 'sampled',
      points: [
        { x: 2.9e8, y: 61 },
        { x: 3.4e8, y: 64.5 },
        { x: 4.1e8, y: 70 },
      ],
      color: '#ff0000',
    },
    { name: 'board <K=10>', points: [{ x: 3.2e8, y: 72 }], color: '#0000ff', marker: 'square' },
  ],
};

describe('PNG encoder', () => {
  test('crc32 matches the standard check value and node:zlib', () => {
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
    const data = Buffer.from('IHDR and friends');
    assert.equal(crc32(data), zlib.crc32(data));
  });

  test('IHDR, IDAT, IEND with valid CRCs; pixels survive decoding', () => {
    const rgba = new Uint8Array(3 * 2 * 4).map((_, i) => (i * 37) % 256);
    const bytes = encodePng(3, 2, rgba);
    const chunks = pngChunks(bytes);
    assert.deepEqual(
      chunks.map((c) => c.type),
      ['IHDR', 'IDAT', 'IEND'],
    );
    assert.equal(chunks[0].data.readUInt32BE(0), 3);
    assert.equal(chunks[0].data.readUInt32BE(4), 2);
    assert.deepEqual([...chunks[0].data.subarray(8)], [8, 6, 0, 0, 0]);
    assert.deepEqual([...PNG.sync.read(Buffer.from(bytes)).data], [...rgba]);
    assert.throws(() => encodePng(3, 2, new Uint8Array(5)), /needs 24 bytes, got 5/);
  });
});

describe('niceTicks', () => {
  test('round steps covering the data', () => {
    assert.deepEqual(niceTicks(0, 1).values, [0, 0.2, 0.4, 0.6, 0.8, 1]);
    const loss = niceTicks(0.37, 2.85);
    assert.equal(loss.step, 0.5);
    assert.deepEqual(loss.labels, ['0.0', '0.5', '1.0', '1.5', '2.0', '2.5', '3.0']);
    assert.deepEqual(niceTicks(0.3, 0.9).values, [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
    assert.deepEqual(niceTicks(-7, 3).labels, ['-8', '-6', '-4', '-2', '0', '2', '4']);
  });

  test('FLOPs get a shared exponent; tiny steps too; flat data still gets an axis', () => {
    assert.deepEqual(niceTicks(2.8e8, 4.2e8).labels, [
      '2.8e8',
      '3.0e8',
      '3.2e8',
      '3.4e8',
      '3.6e8',
      '3.8e8',
      '4.0e8',
      '4.2e8',
    ]);
    assert.deepEqual(niceTicks(0, 5e-5).labels, ['0', '1e-5', '2e-5', '3e-5', '4e-5', '5e-5']);
    const flat = niceTicks(5, 5);
    assert.ok(flat.min < 5 && flat.max > 5);
    assert.ok(niceTicks(0, 0).max > 0);
    assert.throws(() => niceTicks(1, 0), /finite lo <= hi/);
  });
});

describe('plots', () => {
  test('SVG holds the title, axis labels, tick labels and every series', () => {
    const svg = scatterPlot(scatterOptions).toSvg();
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="800" height="500"/);
    assert.match(svg, /<\/svg>\n$/);
    for (const s of ['Board: accuracy vs FLOPs', '>FLOPs<', '>top-1 %<', '>3.0e8<', 'data-name="sampled"']) {
      assert.ok(svg.includes(s), `SVG lacks ${s}`);
    }
    assert.ok(svg.includes('board &lt;K=10&gt;'), 'series names are escaped');
    assert.ok(!svg.includes('<K=10>'));
    // Three sampled points + one legend marker are circles; the board point and its legend are squares.
    assert.equal((svg.match(/<circle /g) ?? []).length, 4);
    assert.equal((svg.match(/<rect x="[^"]*" y="[^"]*" width="7" height="7" fill="#0000ff"/g) ?? []).length, 2);
  });

  test('PNG decodes at the right size, with marker colour where each point was drawn', () => {
    const plot = scatterPlot(scatterOptions);
    const png = PNG.sync.read(Buffer.from(plot.toPng()));
    assert.equal(png.width, 800);
    assert.equal(png.height, 500);
    for (const p of scatterOptions.series[0].points) {
      const { px, py } = plot.pixelOf(p.x, p.y);
      assert.deepEqual(pixel(png, px, py), [255, 0, 0, 255], `red marker at ${p.x}, ${p.y}`);
    }
    const { px, py } = plot.pixelOf(3.2e8, 72);
    assert.deepEqual(pixel(png, px, py), [0, 0, 255, 255], 'blue square');
    // Far from every point, inside the plot area: background.
    const empty = plot.pixelOf(4.0e8, 62.5);
    assert.deepEqual(pixel(png, empty.px + 3, empty.py + 3), [255, 255, 255, 255]);
    // Text was drawn: the title row holds dark pixels.
    let dark = 0;
    for (let x = 0; x < png.width; x++) for (let y = 12; y < 26; y++) if (pixel(png, x, y)[0] < 100) dark++;
    assert.ok(dark > textWidth('Board', 2), `title pixels: ${dark}`);
  });

  test('line plot: the line passes between points, NaN breaks it, size option is honoured', () => {
    const plot = linePlot({
      title: 'loss',
      xLabel: 'epoch',
      yLabel: 'loss',
      width: 640,
      height: 400,
      series: [
        {
          name: 'train',
          color: '#00aa00',
          points: [
            { x: 0, y: 2 },
            { x: 1, y: 1 },
            { x: 2, y: Number.NaN },
            { x: 3, y: 0.5 },
            { x: 4, y: 0.5 },
          ],
        },
      ],
    });
    const svg = plot.toSvg();
    assert.equal((svg.match(/<polyline /g) ?? []).length, 2, 'NaN splits the line in two');
    const png = PNG.sync.read(Buffer.from(plot.toPng()));
    assert.deepEqual([png.width, png.height], [640, 400]);
    const mid = plot.pixelOf(3.5, 0.5);
    assert.deepEqual(pixel(png, mid.px, mid.py), [0, 0xaa, 0, 255], 'on the segment (3, 0.5)-(4, 0.5)');
    const gap = plot.pixelOf(2, 0.75);
    assert.notDeepEqual(pixel(png, gap.px, gap.py), [0, 0xaa, 0, 255], 'nothing drawn across the NaN');
  });

  test('bad options are rejected with a message naming them', () => {
    const base = { title: '', xLabel: '', yLabel: '' };
    assert.throws(
      () => scatterPlot({ ...base, series: [{ name: 's', points: [], color: 'red' }] }),
      /series "s": colour must be "#rrggbb"/,
    );
    assert.throws(() => linePlot({ ...base, series: [], width: 40, height: 40 }), /too small/);
    assert.throws(() => linePlot({ ...base, series: [], xRange: [1, 1] }), /xRange must be \[min, max\]/);
    assert.doesNotThrow(() => linePlot({ ...base, series: [] }).toPng(), 'an empty plot still renders');
  });
});
