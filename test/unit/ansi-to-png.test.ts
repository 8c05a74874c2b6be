import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { inflateSync } from 'node:zlib';
import { ROOT } from '../helpers.js';

/** scripts/ansi-to-png.mjs is plain JS without type declarations: its surface, as used here. */
interface Layout {
  cellWidth: number;
  lineHeight: number;
  padding: number;
  titleHeight: number;
  width: number;
  height: number;
}
interface AnsiToPng {
  ansiToPng(ansi: string, pngPath: string, opts?: { cols?: number; rows?: number; title?: string; scale?: number }): Promise<{ width: number; height: number }>;
  normalizeAnsi(ansi: string): { text: string; cols: number; rows: number };
  layout(opts: { cols: number; rows: number; fontSize?: number; title?: string }): Layout;
  missingTools(): string[];
  THEME: { background: string; foreground: string; titleBar: string; palette: string[] };
}

const SCRIPT = path.join(ROOT, 'scripts', 'ansi-to-png.mjs');
const mod = (await import(pathToFileURL(SCRIPT).href)) as AnsiToPng;
const missing = mod.missingTools();
const skip = missing.length ? `needs ${missing.join(' and ')}` : false;

const ESC = '\x1b';
const hex = (rgb: number[]) => `#${rgb.map((v) => v.toString(16).padStart(2, '0')).join('')}`;

/** A minimal PNG reader (8-bit RGB/RGBA, no interlace: what Chromium writes). */
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

test('normalizeAnsi: reverse, dim, bold-bright, 256 and 24-bit colours resolved; other escapes dropped; size measured', () => {
  const { THEME, normalizeAnsi } = mod;
  const rgb = (c: string) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16)).join(';');
  const n = normalizeAnsi(`${ESC}[7mR${ESC}[0m ${ESC}[31;7mr${ESC}[0m ${ESC}[1;34mB${ESC}[0m ${ESC}[38;5;208mO${ESC}[38;2;1;2;3mT${ESC}[0m\n${ESC}]0;title\x07${ESC}[2J${ESC}[?25l${ESC}(Bx\ty 日\n`);
  assert.equal(n.rows, 2, 'a final newline ends the last line');
  assert.equal(n.cols, 12, 'x, a tab to column 8, y, a space, a wide character');
  const lines = n.text.split('\n');
  // Reverse video of the default colours: the theme's colours swapped.
  assert.ok(lines[0]!.startsWith(`${ESC}[0;38;2;${rgb(THEME.background)};48;2;${rgb(THEME.foreground)}mR`), lines[0]);
  assert.ok(lines[0]!.includes(`${ESC}[0;38;2;${rgb(THEME.background)};48;2;${rgb(THEME.palette[1]!)}mr`), 'reverse of red on default');
  assert.ok(lines[0]!.includes(`${ESC}[0;1;38;2;${rgb(THEME.palette[12]!)}mB`), 'bold blue drawn bright');
  assert.ok(lines[0]!.includes(`${ESC}[0;38;2;255;135;0mO`), 'xterm colour 208');
  assert.ok(lines[0]!.includes(`${ESC}[0;38;2;1;2;3mT`));
  assert.equal(lines[1]!.replace(/\x1b\[[0-9;]*m/g, ''), 'x       y 日', 'OSC, CSI other than SGR and charset selection dropped; tab expanded');
  assert.doesNotMatch(n.text.replace(/\x1b\[[0-9;]*m/g, ''), /[\x00-\x09\x0b-\x1f]/, 'no escape or control character but SGR and newline left');
  const dim = normalizeAnsi(`${ESC}[2mdim${ESC}[22mnot`).text;
  assert.match(dim, /^\x1b\[0;38;2;\d+;\d+;\d+mdim\x1b\[0mnot$/, 'dim: a colour between foreground and background, 22 ends it');
  assert.doesNotMatch(dim, new RegExp(`38;2;${rgb(THEME.foreground)}m`), 'dim is not the plain foreground');
});

test('ansiToPng: a frame becomes a PNG of its grid size, with its colours and reverse video, and leaves no temp files', { skip }, async (t) => {
  const { THEME } = mod;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'iw-a2p-test-'));
  try {
    const cols = 20;
    const rows = 4;
    const frame = [
      `${ESC}[7mREVERSE${' '.repeat(cols - 7)}${ESC}[0m`,
      'plain text',
      `${ESC}[41m${' '.repeat(cols)}${ESC}[0m`,
      `${ESC}[38;5;208morange${ESC}[0m ${ESC}[1mbold${ESC}[0m ✔ ╭─╮`,
    ].join('\n');
    const before = (await readdir(os.tmpdir())).filter((f) => f.startsWith('ansi-to-png-'));
    const out = path.join(dir, 'frame.png');
    const t0 = Date.now();
    const size = await mod.ansiToPng(frame, out, { cols, rows });
    const ms = Date.now() - t0;
    const png = decodePng(await readFile(out));
    assert.deepEqual(size, { width: png.width, height: png.height });
    const g = mod.layout({ cols, rows });
    assert.ok(Math.abs(png.width - g.width) <= 2, `width ${png.width}, expected about ${g.width}`);
    assert.ok(Math.abs(png.height - g.height) <= 2, `height ${png.height}, expected about ${g.height}`);
    // The middle of a cell (x) on a row (y), in PNG pixels.
    const at = (col: number, row: number) => png.colour(Math.round(g.padding + (col + 0.5) * g.cellWidth), Math.round(g.padding + (row + 0.5) * g.lineHeight));
    assert.equal(at(15, 0), THEME.foreground, 'reverse video: a blank cell in the foreground colour');
    assert.equal(at(15, 1), THEME.background, 'a plain blank cell in the background colour');
    assert.equal(at(10, 2), THEME.palette[1], 'a red background');
    assert.equal(png.colour(1, 1), THEME.background, 'the padding is the terminal background (nothing white, no scrollbar)');
    assert.equal(png.colour(png.width - 2, png.height - 2), THEME.background);
    const after = (await readdir(os.tmpdir())).filter((f) => f.startsWith('ansi-to-png-') && !before.includes(f));
    assert.deepEqual(after, [], 'temp files removed');
    t.diagnostic(`one conversion: ${ms} ms`);

    // A title bar and scale 2: twice the pixels, the bar on top.
    const titled = path.join(dir, 'titled.png');
    await mod.ansiToPng(frame, titled, { cols, rows, title: 'initrd-wizard', scale: 2 });
    const tp = decodePng(await readFile(titled));
    const gt = mod.layout({ cols, rows, title: 'initrd-wizard' });
    assert.ok(Math.abs(tp.width - 2 * gt.width) <= 4, `width ${tp.width}, expected about ${2 * gt.width}`);
    assert.ok(Math.abs(tp.height - 2 * gt.height) <= 4, `height ${tp.height}, expected about ${2 * gt.height}`);
    assert.equal(tp.colour(tp.width - 4, 4), THEME.titleBar);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the CLI: in.ansi out.png; usage errors exit 2', { skip }, async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'iw-a2p-test-'));
  const run = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [SCRIPT, ...args], (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }));
    });
  try {
    const input = path.join(dir, 'in.ansi');
    await writeFile(input, `${ESC}[32mgreen${ESC}[0m and ${ESC}[7mreverse${ESC}[0m\nsecond line\n`);
    const r = await run([input, path.join(dir, 'out.png'), '--cols', '30', '--rows', '3']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /out\.png: \d+x\d+ \(\d+ ms\)/);
    const png = decodePng(await readFile(path.join(dir, 'out.png')));
    const g = mod.layout({ cols: 30, rows: 3 });
    assert.ok(Math.abs(png.width - g.width) <= 2 && Math.abs(png.height - g.height) <= 2, `${png.width}x${png.height}`);
    assert.equal((await run([input])).code, 2);
    assert.equal((await run([input, 'x.png', '--cols', 'many'])).code, 1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
