/**
 * JSON.parse for probe outputs from another machine. V8's messages quote the
 * start of the text ("Unexpected token 'r', "root:x:0:0"… is not valid
 * JSON"), which would put a file's content into an error; ours give only the
 * position.
 */
import { parseFailure, parsed, type Parsed } from '../../errors.js';

/** "line L, column C" of a character offset, counted the way editors do. */
function lineAndColumn(text: string, offset: number): string {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return `line ${line}, column ${offset - start + 1}`;
}

export function parseJsonText(text: string): Parsed<unknown> {
  try {
    return parsed(JSON.parse(text) as unknown);
  } catch (err) {
    const message = err instanceof Error ? err.message : '';
    if (/Unexpected end of JSON input/.test(message)) return parseFailure('not valid JSON (it ends too early: truncated?)');
    const at = /at position (\d+)/.exec(message)?.[1];
    return parseFailure(at ? `not valid JSON (at ${lineAndColumn(text, Number(at))})` : 'not valid JSON');
  }
}
