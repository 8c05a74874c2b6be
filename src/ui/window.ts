/** Windowed lists: only the rows on screen are rendered, whatever the list length. */

/** The new cursor after a movement over `count` rows with `page` rows visible. */
export function moveCursor(cursor: number, m: 'up' | 'down' | 'pageup' | 'pagedown' | 'home' | 'end', count: number, page: number): number {
  if (count <= 0) return 0;
  const step = Math.max(1, page - 1);
  const next =
    m === 'up' ? cursor - 1 : m === 'down' ? cursor + 1 : m === 'pageup' ? cursor - step : m === 'pagedown' ? cursor + step : m === 'home' ? 0 : count - 1;
  return Math.min(count - 1, Math.max(0, next));
}

/** First visible row: keeps the cursor in view, centred when it can be. */
export function windowStart(cursor: number, count: number, height: number): number {
  if (count <= height || height <= 0) return 0;
  const start = cursor - Math.floor(height / 2);
  return Math.max(0, Math.min(count - height, start));
}

export function clamp(cursor: number, count: number): number {
  return count <= 0 ? 0 : Math.min(count - 1, Math.max(0, cursor));
}

/** Cuts a string to `width` columns with an ellipsis. */
export function fit(s: string, width: number): string {
  if (width <= 0) return '';
  if (s.length <= width) return s;
  return width <= 1 ? s.slice(0, width) : s.slice(0, width - 1) + '…';
}

/**
 * A name in a column of `width`: padded, or cut in the middle so both its
 * start and its end (versions, -devel, -libs) stay readable, always leaving
 * the column's last space so the next column never touches it.
 */
export function column(name: string, width: number): string {
  const room = width - 1;
  if (name.length <= room) return name.padEnd(width);
  const head = Math.ceil((room - 1) / 2);
  return `${name.slice(0, head)}…${name.slice(name.length - (room - 1 - head))} `;
}
