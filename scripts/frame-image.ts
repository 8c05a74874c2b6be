/**
 * One terminal frame (text with ANSI colours, as `tmux capture-pane -e`
 * prints it) as a picture of a terminal window, for the README. xterm.js's
 * headless terminal reads the escape sequences exactly as a terminal would;
 * the cells become an SVG (one <text> per run of equal style, a <rect> per
 * run of background), and resvg rasterises that to PNG with DejaVu Sans Mono.
 * No browser, no external program.
 */
import { existsSync } from 'node:fs';
import { Resvg } from '@resvg/resvg-js';
import xterm from '@xterm/headless';

/** A dark terminal (VS Code's integrated terminal palette). */
export const THEME = {
  background: '#1e1e1e',
  foreground: '#cccccc',
  titleBar: '#323232',
  titleText: '#a0a0a0',
  palette: ['#000000', '#cd3131', '#0dbc79', '#e5e510', '#2472c8', '#bc3fbc', '#11a8cd', '#e5e5e5', '#666666', '#f14c4c', '#23d18b', '#f5f543', '#3b8eea', '#d670d6', '#29b8db', '#ffffff'],
};

const FONT_FILES = ['/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf', '/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf'];
const FONT = 'DejaVu Sans Mono';
/** DejaVu Sans Mono: advance 1233/2048 em; ascent + descent 1901 + 483 of 2048 em. */
const ADVANCE_EM = 1233 / 2048;
const ASCENT_EM = 1901 / 2048;
const GLYPH_HEIGHT_EM = (1901 + 483) / 2048;

export interface FrameOptions {
  cols: number;
  rows: number;
  title?: string;
  fontSize?: number;
}

export interface Layout {
  cellWidth: number;
  lineHeight: number;
  padding: number;
  titleHeight: number;
  width: number;
  height: number;
}

export function layout({ cols, rows, title, fontSize = 15 }: FrameOptions): Layout {
  const cellWidth = fontSize * ADVANCE_EM;
  const lineHeight = Math.ceil(fontSize * GLYPH_HEIGHT_EM);
  const padding = Math.round(fontSize * 0.8);
  const titleHeight = title ? Math.round(fontSize * 2) : 0;
  return { cellWidth, lineHeight, padding, titleHeight, width: Math.ceil(cols * cellWidth) + 2 * padding, height: titleHeight + rows * lineHeight + 2 * padding };
}

/** The 256-colour cube and grey ramp beyond the 16 named colours. */
function paletteColour(i: number): string {
  if (i < 16) return THEME.palette[i]!;
  const hex = (v: number) => v.toString(16).padStart(2, '0');
  if (i >= 232) {
    const g = 8 + (i - 232) * 10;
    return `#${hex(g)}${hex(g)}${hex(g)}`;
  }
  const n = i - 16;
  const level = (v: number) => (v ? 55 + v * 40 : 0);
  return `#${hex(level(Math.floor(n / 36)))}${hex(level(Math.floor(n / 6) % 6))}${hex(level(n % 6))}`;
}

/** xterm's colour modes (IBufferCell.getFgColorMode): default, 16, 256, RGB. */
const CM_P16 = 1 << 24;
const CM_P256 = 2 << 24;
const CM_RGB = 3 << 24;

function colour(mode: number, value: number, fallback: string): string {
  if (mode === CM_P16 || mode === CM_P256) return paletteColour(value);
  if (mode === CM_RGB) return `#${value.toString(16).padStart(6, '0')}`;
  return fallback;
}

interface Style {
  fg: string;
  bg: string | null;
  bold: boolean;
  dim: boolean;
}

const escapeXml = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** The frame's cells, row by row, each a run of one style. */
export async function frameRuns(ansi: string, cols: number, rows: number): Promise<Array<Array<{ text: string; col: number; style: Style }>>> {
  const term = new xterm.Terminal({ cols, rows, allowProposedApi: true, convertEol: true });
  // tmux ends lines with \n and draws every row: a final newline would scroll the first row away.
  await new Promise<void>((resolve) => term.write(ansi.replace(/\n$/, ''), resolve));
  const out: Array<Array<{ text: string; col: number; style: Style }>> = [];
  const buffer = term.buffer.active;
  for (let y = 0; y < rows; y++) {
    const line = buffer.getLine(buffer.viewportY + y);
    const runs: Array<{ text: string; col: number; style: Style }> = [];
    for (let x = 0; line && x < cols; x++) {
      const cell = line.getCell(x);
      if (!cell || cell.getWidth() === 0) continue;
      // Bold in one of the eight base colours is drawn in its bright variant, as terminals do by default.
      const fgMode = cell.getFgColorMode();
      const fgValue = cell.getFgColor() + (cell.isBold() && fgMode === CM_P16 && cell.getFgColor() < 8 ? 8 : 0);
      let fg = colour(fgMode, fgValue, THEME.foreground);
      let bg: string | null = colour(cell.getBgColorMode(), cell.getBgColor(), '') || null;
      if (cell.isInverse()) [fg, bg] = [bg ?? THEME.background, fg];
      const style: Style = { fg, bg, bold: !!cell.isBold(), dim: !!cell.isDim() };
      const ch = cell.getChars() || ' ';
      const last = runs[runs.length - 1];
      if (last && last.style.fg === style.fg && last.style.bg === style.bg && last.style.bold === style.bold && last.style.dim === style.dim) last.text += ch;
      else runs.push({ text: ch, col: x, style });
    }
    out.push(runs);
  }
  term.dispose();
  return out;
}

export async function frameToSvg(ansi: string, opts: FrameOptions): Promise<string> {
  const fontSize = opts.fontSize ?? 15;
  const l = layout({ ...opts, fontSize });
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${l.width}" height="${l.height}" viewBox="0 0 ${l.width} ${l.height}">`,
    `<rect width="100%" height="100%" rx="8" fill="${THEME.background}"/>`,
  ];
  if (opts.title) {
    parts.push(`<rect width="100%" height="${l.titleHeight}" rx="8" fill="${THEME.titleBar}"/>`, `<rect y="${l.titleHeight - 8}" width="100%" height="8" fill="${THEME.titleBar}"/>`);
    ['#ff5f57', '#febc2e', '#28c840'].forEach((c, i) => parts.push(`<circle cx="${l.padding + 6 + i * 20}" cy="${l.titleHeight / 2}" r="6" fill="${c}"/>`));
    parts.push(`<text x="${l.width / 2}" y="${l.titleHeight / 2 + fontSize * 0.35}" text-anchor="middle" font-family="${FONT}" font-size="${fontSize * 0.9}" fill="${THEME.titleText}">${escapeXml(opts.title)}</text>`);
  }
  const top = l.titleHeight + l.padding;
  const rows = await frameRuns(ansi, opts.cols, opts.rows);
  rows.forEach((runs, y) => {
    for (const r of runs) {
      const x = l.padding + r.col * l.cellWidth;
      const w = [...r.text].length * l.cellWidth;
      if (r.style.bg) parts.push(`<rect x="${x.toFixed(2)}" y="${top + y * l.lineHeight}" width="${w.toFixed(2)}" height="${l.lineHeight}" fill="${r.style.bg}"/>`);
      if (!r.text.trim()) continue;
      const attrs = `${r.style.bold ? ' font-weight="bold"' : ''}${r.style.dim ? ' fill-opacity="0.6"' : ''}`;
      // xml:space keeps the spaces inside a run; textLength pins the run to its cells whatever the font's rounding.
      parts.push(`<text xml:space="preserve" x="${x.toFixed(2)}" y="${(top + y * l.lineHeight + fontSize * ASCENT_EM).toFixed(2)}" textLength="${w.toFixed(2)}" font-family="${FONT}" font-size="${fontSize}" fill="${r.style.fg}"${attrs}>${escapeXml(r.text)}</text>`);
    }
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** The frame as PNG bytes (scale 2 for sharp text on high-density screens). */
export async function frameToPng(ansi: string, opts: FrameOptions & { scale?: number }): Promise<Buffer> {
  const svg = await frameToSvg(ansi, opts);
  const fonts = FONT_FILES.filter((f) => existsSync(f));
  if (!fonts.length) throw new Error(`no DejaVu Sans Mono (${FONT_FILES[0]}): install fonts-dejavu-core`);
  const png = new Resvg(svg, { fitTo: { mode: 'zoom', value: opts.scale ?? 2 }, font: { fontFiles: fonts, loadSystemFonts: false, defaultFontFamily: FONT, monospaceFamily: FONT } }).render().asPng();
  return Buffer.from(png);
}
