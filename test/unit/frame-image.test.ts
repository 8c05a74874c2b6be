/**
 * The README's screenshots without a browser: a terminal frame read by
 * xterm.js's headless terminal, drawn as SVG and rasterised by resvg. The
 * picture is checked pixel by pixel where the colours must be.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import { frameRuns, frameToPng, frameToSvg, layout, THEME } from '../../scripts/frame-image.js';

const ESC = '\x1b';
const hex = (rgb: number[]) => `#${rgb.map((v) => v.toString(16).padStart(2, '0')).join('')}`;

/** A minimal PNG reader (8-bit RGB/RGBA, no interlace: what resvg writes). */
function decodePng(buf: Buffer): { width: number; height: number; colour: (x: number, y: number) => string } {
  assert.deepEqual([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  assert.equal(buf.toString('latin1', 12, 16), 'IHDR', 'IHDR is the first chunk');
  const width = buf.readUInt32BE(16);
  const height = buf.readUInt32BE(20);
  const [depth, type, , , interlace] = buf.subarray(24, 29);
  assert.equal(depth, 8);
  assert.ok(type === 2 || type === 6, `colour type ${type}`);
  assert.equal(interlace, 0);
  const idat: Buffer[] = [];
  for (let i = 8; i < buf.length; ) {
    const n = buf.readUInt32BE(i);
    if (buf.toString('latin1', i + 4, i + 8) === 'IDAT') idat.push(buf.subarray(i + 8, i + 8 + n));
    i += 12 + n;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const bpp = type === 6 ? 4 : 3;
  const stride = width * bpp;
  const px = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? px[y * stride + x - bpp]! : 0;
      const b = y ? px[(y - 1) * stride + x]! : 0;
      const c = x >= bpp && y ? px[(y - 1) * stride + x - bpp]! : 0;
      let p = 0;
      if (filter === 1) p = a;
      else if (filter === 2) p = b;
      else if (filter === 3) p = (a + b) >> 1;
      else if (filter === 4) {
        const q = a + b - c;
        const [pa, pb, pc] = [Math.abs(q - a), Math.abs(q - b), Math.abs(q - c)];
        p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      px[y * stride + x] = (raw[y * (stride + 1) + 1 + x]! + p) & 255;
    }
  }
  return { width, height, colour: (x, y) => hex([...px.subarray((y * width + x) * bpp, (y * width + x) * bpp + 3)]) };
}

test('cells: reverse video, bold-bright, 256 and 24-bit colours as a terminal shows them; other escapes ignored', async () => {
  const frame = `${ESC}[7mR${ESC}[0m ${ESC}[31;7mr${ESC}[0m ${ESC}[1;34mB${ESC}[0m ${ESC}[38;5;208mO${ESC}[38;2;1;2;3mT${ESC}[0m\n${ESC}]0;title\x07${ESC}[?25lx\ty 日`;
  const [first, second] = await frameRuns(frame, 20, 2);
  const at = (runs: NonNullable<typeof first>, col: number) => runs.find((r) => r.col <= col && col < r.col + [...r.text].length)!;
  assert.deepEqual(at(first!, 0).style, { fg: THEME.background, bg: THEME.foreground, bold: false, dim: false }, 'reverse of the default colours');
  assert.deepEqual(at(first!, 2).style, { fg: THEME.background, bg: THEME.palette[1], bold: false, dim: false }, 'reverse of red');
  assert.equal(at(first!, 4).style.fg, THEME.palette[12], 'bold blue drawn bright');
  assert.equal(at(first!, 6).style.fg, '#ff8700', 'xterm colour 208');
  assert.equal(at(first!, 7).style.fg, '#010203', '24-bit colour');
  assert.equal(second!.map((r) => r.text).join('').trimEnd(), 'x       y 日', 'OSC and mode changes drawn as nothing; the tab moves to column 8');
});

test('a frame becomes a PNG of its grid size with its colours; a title bar on top; scale 2 doubles it', async () => {
  const cols = 20;
  const rows = 4;
  const frame = [`${ESC}[7mREVERSE${' '.repeat(cols - 7)}${ESC}[0m`, 'plain text', `${ESC}[41m${' '.repeat(cols)}${ESC}[0m`, `${ESC}[38;5;208morange${ESC}[0m ${ESC}[1mbold${ESC}[0m ✔ ╭─╮`].join('\n');
  const png = decodePng(await frameToPng(frame, { cols, rows, scale: 1 }));
  const g = layout({ cols, rows });
  assert.equal(png.width, g.width);
  assert.equal(png.height, g.height);
  const at = (col: number, row: number) => png.colour(Math.round(g.padding + (col + 0.5) * g.cellWidth), Math.round(g.padding + (row + 0.5) * g.lineHeight));
  assert.equal(at(15, 0), THEME.foreground, 'reverse video: a blank cell in the foreground colour');
  assert.equal(at(15, 1), THEME.background, 'a plain blank cell in the background colour');
  assert.equal(at(10, 2), THEME.palette[1], 'a red background');
  assert.equal(png.colour(g.padding - 2, png.height / 2), THEME.background, 'the padding is the terminal background');

  const titled = decodePng(await frameToPng(frame, { cols, rows, title: 'initrd-wizard', scale: 2 }));
  const gt = layout({ cols, rows, title: 'initrd-wizard' });
  assert.equal(titled.width, 2 * gt.width);
  assert.equal(titled.height, 2 * gt.height);
  assert.equal(titled.colour(titled.width / 2 + 200, 8), THEME.titleBar);
  assert.match(await frameToSvg(frame, { cols, rows, title: 'a <b> & c' }), /a &lt;b&gt; &amp; c/, 'text is escaped in the SVG');
});
