/** Words into lines of at most `width` columns (a word longer than a line stands alone); the wizard's and the exported spec's. */
export function wrapWords(text: string, width: number): string[] {
  if (width <= 10 || text.length <= width) return [text];
  const out: string[] = [];
  let cur = '';
  for (const word of text.split(' ')) {
    if (cur && cur.length + 1 + word.length > width) {
      out.push(cur);
      cur = word;
    } else cur = cur ? `${cur} ${word}` : word;
  }
  if (cur) out.push(cur);
  return out;
}
