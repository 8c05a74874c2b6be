#!/usr/bin/env node
// Renders one terminal frame (text with ANSI SGR colours, e.g. a tmux
// `capture-pane -p -e -N`) as a PNG that looks like a terminal window, for the
// README's screenshots.
//
//   node scripts/ansi-to-png.mjs in.ansi out.png [--cols N] [--rows N] [--title T] [--scale N] [--font-size PX]
//   (in.ansi may be '-' for standard input)
//
//   import { ansiToPng } from './scripts/ansi-to-png.mjs';
//   await ansiToPng(frame, 'screenshots/x.png', { cols: 120, rows: 40, title: 'initrd-wizard' });
//
// How: the SGR stream is first brought to a plain form (bold/dim/reverse/
// hidden and the 16/256 colours resolved against THEME to 24-bit colours,
// other escape sequences dropped), `aha` turns that into HTML, the HTML goes
// into a page with a fixed grid (cols x rows cells of "DejaVu Sans Mono"),
// and headless Chromium, driven over its DevTools pipe, lays it out, measures
// it and takes the screenshot at exactly the frame's size. (Chromium's own
// `--screenshot --window-size=W,H` is not used: Chromium 150+ in headless mode
// paints only the top ~30 px of such a window.)
//
// Needs the Debian packages aha and chromium (`apt-get install -y
// --no-install-recommends aha chromium`), and fonts-dejavu-core for the font.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

/** Colours: a dark terminal (the palette of VS Code's integrated terminal). */
export const THEME = {
  background: '#1e1e1e',
  foreground: '#cccccc',
  titleBar: '#323232',
  titleText: '#a0a0a0',
  palette: [
    '#000000', '#cd3131', '#0dbc79', '#e5e510', '#2472c8', '#bc3fbc', '#11a8cd', '#e5e5e5',
    '#666666', '#f14c4c', '#23d18b', '#f5f543', '#3b8eea', '#d670d6', '#29b8db', '#ffffff',
  ],
};

const FONT = '"DejaVu Sans Mono", monospace';
/** DejaVu Sans Mono: advance 1233/2048 em; ascent + descent 1901 + 483 of 2048 em. */
const ADVANCE_EM = 1233 / 2048;
const GLYPH_HEIGHT_EM = (1901 + 483) / 2048;

/**
 * Geometry of the picture, in CSS pixels (multiply by `scale` for PNG pixels).
 * `width`/`height` are the estimate from the font's metrics; the page is
 * measured again in the browser and the PNG is cut to what it measured.
 */
export function layout({ cols, rows, fontSize = 15, title } = {}) {
  const cellWidth = fontSize * ADVANCE_EM;
  const lineHeight = Math.ceil(fontSize * GLYPH_HEIGHT_EM);
  const padding = Math.round(fontSize * 0.8);
  const titleHeight = title ? Math.round(fontSize * 2) : 0;
  return {
    cellWidth,
    lineHeight,
    padding,
    titleHeight,
    width: Math.ceil(cols * cellWidth) + 2 * padding,
    height: titleHeight + rows * lineHeight + 2 * padding,
  };
}

// ---------------------------------------------------------------------------
// Tools

function onPath(name) {
  for (const dir of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    const p = path.join(dir || '.', name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return null;
}

/** Chromium's binary: $CHROMIUM_BIN, else `chromium` (Debian), `chromium-browser`, `google-chrome(-stable)`. */
export function findChromium() {
  const forced = process.env.CHROMIUM_BIN;
  if (forced) {
    try {
      accessSync(forced, constants.X_OK);
      return forced;
    } catch {
      return null;
    }
  }
  for (const name of ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome']) {
    const p = onPath(name);
    if (p) return p;
  }
  return null;
}

/** What is missing to run ansiToPng, each with the apt package to install; empty when all is there. */
export function missingTools() {
  const missing = [];
  if (!onPath('aha')) missing.push('aha (Debian package aha: apt-get install -y aha)');
  if (!findChromium()) missing.push('chromium (Debian package chromium: apt-get install -y --no-install-recommends chromium)');
  return missing;
}

// ---------------------------------------------------------------------------
// ANSI -> plain SGR form

/** Cells a code point takes: 0 for combining marks and zero-width characters, 2 for East Asian wide ones. */
export function cellWidth(cp) {
  if (cp === 0x200b || cp === 0x200c || cp === 0x200d || cp === 0x2060 || (cp >= 0xfe00 && cp <= 0xfe0f)) return 0;
  if (/\p{M}/u.test(String.fromCodePoint(cp))) return 0;
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  )
    return 2;
  return 1;
}

function hex(n) {
  return n.toString(16).padStart(2, '0');
}
function parseHex(c) {
  return [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
}
function rgbHex([r, g, b]) {
  return `#${hex(r)}${hex(g)}${hex(b)}`;
}

/** xterm's 256 colours, 0-15 from the theme. */
function indexed(theme, n) {
  if (n < 16) return theme.palette[n];
  if (n < 232) {
    const level = (v) => (v === 0 ? 0 : 55 + 40 * v);
    const i = n - 16;
    return rgbHex([level(Math.floor(i / 36)), level(Math.floor(i / 6) % 6), level(i % 6)]);
  }
  const v = 8 + 10 * (n - 232);
  return rgbHex([v, v, v]);
}

function mix(a, b, t) {
  const x = parseHex(a);
  const y = parseHex(b);
  return rgbHex(x.map((v, i) => Math.round(v * (1 - t) + y[i] * t)));
}

function freshState() {
  return { fg: null, bg: null, bold: false, dim: false, italic: false, underline: false, strike: false, reverse: false, hidden: false };
}

/** Reads a 38/48 colour's parameters from `params` at `i` (after the 38/48); returns [colour | null, next index]. */
function extendedColour(theme, params, i) {
  const mode = params[i];
  if (mode === 5) return [params[i + 1] !== undefined ? indexed(theme, Math.min(255, params[i + 1])) : null, i + 2];
  if (mode === 2) {
    const [r, g, b] = [params[i + 1], params[i + 2], params[i + 3]].map((v) => Math.max(0, Math.min(255, v ?? 0)));
    return [rgbHex([r, g, b]), i + 4];
  }
  return [null, i + 1];
}

function applySgr(theme, st, raw) {
  const parts = raw.split(';');
  // 38;5;n and 38;2;r;g;b take the parameters after them; the colon forms
  // (38:5:n, 38:2::r:g:b, 4:3) are one parameter with sub-parameters.
  const params = parts.map((v) => (v.includes(':') ? -1 : v === '' ? 0 : Number(v)));
  for (let i = 0; i < params.length; ) {
    const p = params[i++];
    if (p === -1) {
      const sub = parts[i - 1].split(':').map((v) => (v === '' ? 0 : Number(v)));
      const code = sub[0];
      if (code === 4) st.underline = sub[1] !== 0;
      else if (code === 38 || code === 48) {
        // 38:2:<colour space>:r:g:b or 38:2:r:g:b
        const args = sub[1] === 2 && sub.length >= 6 ? [2, ...sub.slice(-3)] : sub.slice(1);
        const [colour] = extendedColour(theme, args, 0);
        if (colour) st[code === 38 ? 'fg' : 'bg'] = colour;
      }
    } else if (p === 0) Object.assign(st, freshState());
    else if (p === 1) st.bold = true;
    else if (p === 2) st.dim = true;
    else if (p === 3) st.italic = true;
    else if (p === 4 || p === 21) st.underline = true;
    else if (p === 7) st.reverse = true;
    else if (p === 8) st.hidden = true;
    else if (p === 9) st.strike = true;
    else if (p === 22) st.bold = st.dim = false;
    else if (p === 23) st.italic = false;
    else if (p === 24) st.underline = false;
    else if (p === 27) st.reverse = false;
    else if (p === 28) st.hidden = false;
    else if (p === 29) st.strike = false;
    else if (p >= 30 && p <= 37) st.fg = p - 30;
    else if (p >= 90 && p <= 97) st.fg = p - 90 + 8;
    else if (p === 39) st.fg = null;
    else if (p >= 40 && p <= 47) st.bg = p - 40;
    else if (p >= 100 && p <= 107) st.bg = p - 100 + 8;
    else if (p === 49) st.bg = null;
    else if (p === 38 || p === 48) {
      const [colour, next] = extendedColour(theme, params, i);
      if (colour) st[p === 38 ? 'fg' : 'bg'] = colour;
      i = next;
    } else if (p === 58) i = extendedColour(theme, params, i)[1]; // underline colour: not drawn
  }
}

/** The state as the SGR parameters of its look: 24-bit colours, reverse/dim/hidden/bold-bright already applied. */
function look(theme, st) {
  const colour = (c, boldBright) => {
    if (c === null) return null;
    if (typeof c === 'number') return theme.palette[boldBright && c < 8 ? c + 8 : c];
    return c;
  };
  let fg = colour(st.fg, st.bold);
  let bg = colour(st.bg, false);
  if (st.reverse) {
    [fg, bg] = [bg ?? theme.background, fg ?? theme.foreground];
  }
  if (st.dim) fg = mix(fg ?? theme.foreground, bg ?? theme.background, 0.45);
  if (st.hidden) fg = bg ?? theme.background;
  const ps = ['0'];
  if (st.bold) ps.push('1');
  if (st.italic) ps.push('3');
  if (st.underline) ps.push('4');
  if (st.strike) ps.push('9');
  if (fg) ps.push('38', '2', ...parseHex(fg).map(String));
  if (bg) ps.push('48', '2', ...parseHex(bg).map(String));
  return ps.join(';');
}

/**
 * Brings a frame to the form aha renders faithfully: only SGR 0, 1, 3, 4, 9,
 * 38;2 and 48;2, one full state per change; other escape sequences and
 * control characters dropped, tabs expanded. Also measures it: `cols` is the
 * widest line in cells, `rows` the number of lines (a final newline ends the
 * last line, it does not start another).
 */
export function normalizeAnsi(ansiText, theme = THEME) {
  const st = freshState();
  let out = '';
  let current = '0';
  let col = 0;
  let cols = 0;
  let rows = 1;
  const put = (ch, width) => {
    const want = look(theme, st);
    if (want !== current) {
      out += `\x1b[${want}m`;
      current = want;
    }
    out += ch;
    col += width;
    if (col > cols) cols = col;
  };
  const s = String(ansiText);
  const end = s.endsWith('\n') ? s.length - 1 : s.length;
  for (let i = 0; i < end; ) {
    const cp = s.codePointAt(i);
    const ch = String.fromCodePoint(cp);
    if (cp === 0x1b) {
      const next = s[i + 1];
      if (next === '[') {
        let j = i + 2;
        while (j < s.length && /[0-?]/.test(s[j])) j++;
        while (j < s.length && /[ -/]/.test(s[j])) j++;
        const params = s.slice(i + 2, j);
        if (s[j] === 'm' && !/^[<=>?]/.test(params)) applySgr(theme, st, params);
        i = j + 1;
      } else if (next === ']' || next === 'P' || next === '_' || next === '^' || next === 'X') {
        // OSC / DCS / APC / PM / SOS: up to BEL (OSC) or ST.
        let j = i + 2;
        while (j < s.length && s[j] !== '\x07' && !(s[j] === '\x1b' && s[j + 1] === '\\')) j++;
        i = s[j] === '\x07' ? j + 1 : j + 2;
      } else {
        // ESC, intermediates, final (charset designations and the like).
        let j = i + 1;
        while (j < s.length && /[ -/]/.test(s[j])) j++;
        i = j + 1;
      }
      continue;
    }
    i += ch.length;
    if (ch === '\n') {
      out += '\n';
      rows++;
      col = 0;
    } else if (ch === '\t') {
      const n = 8 - (col % 8);
      for (let k = 0; k < n; k++) put(' ', 1);
    } else if (cp < 0x20 || cp === 0x7f || (cp >= 0x80 && cp < 0xa0)) {
      // other control characters: nothing on a screen
    } else put(ch, cellWidth(cp));
  }
  if (current !== '0') out += '\x1b[0m';
  return { text: out, cols: Math.max(1, cols), rows };
}

// ---------------------------------------------------------------------------
// HTML

function run(cmd, args, input) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('error', (e) => reject(e.code === 'ENOENT' ? new Error(`${cmd} is not installed (Debian package ${cmd}: apt-get install -y ${cmd})`) : e));
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else reject(new Error(`${cmd} exited with status ${code}: ${Buffer.concat(err).toString('utf8').trim()}`));
    });
    child.stdin.on('error', () => {}); // a failed start shows up in 'error'/'close'
    child.stdin.end(input);
  });
}

function escapeHtml(s) {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
}

/**
 * Puts each character past Latin-1 in a box of exactly its cells (1ch or
 * 2ch), so a glyph that comes from a fallback font, or a wide one, keeps the
 * grid; box-drawing and block characters are stretched to the full line
 * height so that borders join.
 */
function pinWideGlyphs(html) {
  return html
    .split(/(<[^>]*>)/)
    .map((part) => {
      if (part.startsWith('<')) return part;
      let r = '';
      for (const ch of part) {
        const cp = ch.codePointAt(0);
        if (cp <= 0xff) r += ch;
        else {
          const w = cellWidth(cp);
          if (w === 0) r += ch;
          else r += `<span class="c${w}${cp >= 0x2500 && cp <= 0x259f ? ' bx' : ''}">${ch}</span>`;
        }
      }
      return r;
    })
    .join('');
}

/** The whole page for one frame; `cols`/`rows` default to the frame's own size. */
export async function ansiToHtml(ansiText, { cols, rows, title, fontSize = 15, theme = THEME } = {}) {
  const norm = normalizeAnsi(ansiText, theme);
  cols = cols ?? norm.cols;
  rows = rows ?? norm.rows;
  const g = layout({ cols, rows, fontSize, title });
  const body = pinWideGlyphs(await run('aha', ['--no-header', '--stylesheet'], norm.text));
  const bar = title
    ? `<div class="bar"><span class="dot" style="background:#ff5f57"></span><span class="dot" style="background:#febc2e"></span><span class="dot" style="background:#28c840"></span><div class="title">${escapeHtml(title)}</div></div>`
    : '';
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${escapeHtml(title ?? 'terminal')}</title>
<style>
html, body { margin: 0; padding: 0; background: ${theme.background}; }
body { display: inline-block; }
#win { display: inline-block; vertical-align: top; background: ${theme.background}; }
.bar { position: relative; height: ${g.titleHeight}px; background: ${theme.titleBar}; display: flex; align-items: center; padding: 0 ${Math.round(g.titleHeight * 0.45)}px; }
.dot { width: ${Math.round(g.titleHeight * 0.42)}px; height: ${Math.round(g.titleHeight * 0.42)}px; border-radius: 50%; margin-right: ${Math.round(g.titleHeight * 0.28)}px; flex: none; }
.title { position: absolute; left: 25%; right: 25%; text-align: center; font: ${Math.round(fontSize * 0.87)}px "DejaVu Sans", sans-serif; color: ${theme.titleText}; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
pre { margin: 0; padding: ${g.padding}px; box-sizing: content-box; width: ${cols}ch; height: ${rows * g.lineHeight}px; overflow: hidden; white-space: pre;
  font-family: ${FONT}; font-size: ${fontSize}px; line-height: ${g.lineHeight}px; color: ${theme.foreground};
  font-variant-ligatures: none; font-kerning: none; -webkit-font-smoothing: antialiased; }
.bold { font-weight: bold; }
.italic { font-style: italic; }
.underline { text-decoration: underline; }
.crossed-out { text-decoration: line-through; }
.underline.crossed-out { text-decoration: underline line-through; }
.c1, .c2 { display: inline-block; overflow: visible; text-align: left; }
.c1 { width: 1ch; }
.c2 { width: 2ch; }
.bx { transform: scaleY(${(g.lineHeight / (fontSize * GLYPH_HEIGHT_EM)).toFixed(4)}); }
</style></head>
<body><div id="win">${bar}<pre>${body}</pre></div></body></html>
`;
}

// ---------------------------------------------------------------------------
// Chromium over the DevTools pipe

/** A headless Chromium driven over --remote-debugging-pipe (NUL-separated JSON on fds 3 and 4). */
async function withChromium(tmp, timeoutMs, body) {
  const bin = findChromium();
  if (!bin) throw new Error('chromium is not installed (Debian package chromium: apt-get install -y --no-install-recommends chromium)');
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--hide-scrollbars',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-dev-shm-usage',
    '--disable-extensions',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--mute-audio',
    `--user-data-dir=${path.join(tmp, 'profile')}`,
    '--remote-debugging-pipe',
    'about:blank',
  ];
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'], detached: true });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d.toString('utf8')).slice(-20000);
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const stderrTail = () =>
    stderr
      .split('\n')
      .filter((l) => l && !/dbus|unexpected operator/.test(l))
      .slice(-15)
      .join('\n');
  const toChrome = child.stdio[3];
  const fromChrome = child.stdio[4];
  const pending = new Map();
  const listeners = new Set();
  let nextId = 0;
  let dead = null;
  const fail = (e) => {
    dead ??= e;
    for (const { reject } of pending.values()) reject(dead);
    pending.clear();
    for (const l of listeners) l(null);
  };
  child.on('error', (e) => fail(e.code === 'ENOENT' ? new Error(`${bin} not found (Debian package chromium)`) : e));
  exited.then(({ code, signal }) => fail(new Error(`chromium exited (${signal ?? `status ${code}`}) before it was done:\n${stderrTail()}`)));
  toChrome.on('error', () => {});
  let buf = '';
  fromChrome.on('data', (d) => {
    buf += d.toString('utf8');
    for (let i; (i = buf.indexOf('\0')) >= 0; ) {
      const msg = JSON.parse(buf.slice(0, i));
      buf = buf.slice(i + 1);
      const p = msg.id !== undefined ? pending.get(msg.id) : undefined;
      if (p) {
        pending.delete(msg.id);
        if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}`));
        else p.resolve(msg.result);
      } else for (const l of listeners) l(msg);
    }
  });
  const send = (method, params = {}, sessionId) =>
    new Promise((resolve, reject) => {
      if (dead) return reject(dead);
      const id = ++nextId;
      pending.set(id, { resolve, reject, method });
      toChrome.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
  const event = (method, sessionId) =>
    new Promise((resolve, reject) => {
      const l = (msg) => {
        if (msg === null) {
          listeners.delete(l);
          reject(dead);
        } else if (msg.method === method && msg.sessionId === sessionId) {
          listeners.delete(l);
          resolve(msg.params);
        }
      };
      listeners.add(l);
    });

  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`chromium took longer than ${timeoutMs} ms:\n${stderrTail()}`)), timeoutMs);
  });
  try {
    return await Promise.race([body(send, event), timeout]);
  } finally {
    clearTimeout(timer);
    // (unref'd timers: a CLI run must not wait for them once Chromium is gone)
    if (!dead) await Promise.race([send('Browser.close').catch(() => {}), new Promise((r) => setTimeout(r, 2000).unref())]);
    const gone = await Promise.race([exited, new Promise((r) => setTimeout(() => r(null), 5000).unref())]);
    if (!gone) {
      try {
        process.kill(-child.pid, 'SIGKILL'); // its own process group (detached): the browser and its helpers
      } catch {
        // already gone
      }
      await exited;
    }
  }
}

/**
 * Renders `ansiText` (one terminal frame) to `pngPath`. `cols`/`rows` default
 * to the frame's own size; `title` adds a window title bar; `scale` is the
 * device pixel ratio (2 for a sharp picture on HiDPI screens).
 * Returns the PNG's size in pixels.
 */
export async function ansiToPng(ansiText, pngPath, { cols, rows, title, fontSize = 15, scale = 1, theme = THEME, timeoutMs = 60000 } = {}) {
  const missing = missingTools();
  if (missing.length) throw new Error(`ansi-to-png needs ${missing.join(' and ')}`);
  const norm = normalizeAnsi(ansiText, theme);
  cols = cols ?? norm.cols;
  rows = rows ?? norm.rows;
  const html = await ansiToHtml(ansiText, { cols, rows, title, fontSize, theme });
  const estimate = layout({ cols, rows, fontSize, title });
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'ansi-to-png-'));
  try {
    const page = path.join(tmp, 'frame.html');
    await writeFile(page, html);
    const png = await withChromium(tmp, timeoutMs, async (send, event) => {
      const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
      const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
      const metrics = (width, height) =>
        send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: scale, mobile: false }, sessionId);
      await send('Page.enable', {}, sessionId);
      await metrics(estimate.width, estimate.height);
      const loaded = event('Page.loadEventFired', sessionId);
      await send('Page.navigate', { url: pathToFileURL(page).href }, sessionId);
      await loaded;
      const { result } = await send(
        'Runtime.evaluate',
        {
          expression: `document.fonts.ready.then(() => { const r = document.getElementById('win').getBoundingClientRect(); return [Math.ceil(r.width), Math.ceil(r.height)]; })`,
          awaitPromise: true,
          returnByValue: true,
        },
        sessionId,
      );
      const [width, height] = result.value;
      await metrics(width, height);
      const shot = await send('Page.captureScreenshot', { format: 'png', clip: { x: 0, y: 0, width, height, scale: 1 } }, sessionId);
      return Buffer.from(shot.data, 'base64');
    });
    await writeFile(pngPath, png);
    return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
  } finally {
    await rm(tmp, { recursive: true, force: true, maxRetries: 3 });
  }
}

// ---------------------------------------------------------------------------
// CLI

async function main(argv) {
  const usage = 'usage: node scripts/ansi-to-png.mjs IN.ansi|- OUT.png [--cols N] [--rows N] [--title TEXT] [--scale N] [--font-size PX]';
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        cols: { type: 'string' },
        rows: { type: 'string' },
        title: { type: 'string' },
        scale: { type: 'string' },
        'font-size': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    console.error(`${e.message}\n${usage}`);
    return 2;
  }
  const { values: v, positionals } = parsed;
  if (v.help) {
    console.log(usage);
    return 0;
  }
  if (positionals.length !== 2) {
    console.error(usage);
    return 2;
  }
  const num = (name, s) => {
    if (s === undefined) return undefined;
    const n = Number(s);
    if (!(n > 0)) throw new Error(`--${name} must be a positive number, got ${s}`);
    return n;
  };
  const [input, output] = positionals;
  try {
    const text = input === '-' ? await readStdin() : await readFile(input, 'utf8');
    const t0 = performance.now();
    const { width, height } = await ansiToPng(text, output, {
      cols: num('cols', v.cols),
      rows: num('rows', v.rows),
      title: v.title,
      scale: num('scale', v.scale),
      fontSize: num('font-size', v['font-size']),
    });
    console.log(`${output}: ${width}x${height} (${Math.round(performance.now() - t0)} ms)`);
    return 0;
  } catch (e) {
    console.error(`ansi-to-png: ${e.message}`);
    return 1;
  }
}

async function readStdin() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
