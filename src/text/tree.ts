/** Box-drawing for trees, shared by the text output and the wizard so both draw a storage stack alike. */

export interface TreeRow<T> {
  /** The branch drawing before the node: "└─ ", "   ├─ ", "   │  └─ " … */
  prefix: string;
  node: T;
}

/**
 * The rows of a tree, parents before children. The root hangs from a "└─ "
 * as the only thing under whatever the caller printed above it. Iterative, so
 * a deep tree from a hostile snapshot cannot exhaust the stack.
 */
export function treeRows<T>(root: T, children: (node: T) => readonly T[]): TreeRow<T>[] {
  const rows: TreeRow<T>[] = [];
  const todo: Array<{ node: T; lead: string; last: boolean }> = [{ node: root, lead: '', last: true }];
  while (todo.length) {
    const { node, lead, last } = todo.pop()!;
    rows.push({ prefix: `${lead}${last ? '└─ ' : '├─ '}`, node });
    const kids = children(node);
    const below = `${lead}${last ? '   ' : '│  '}`;
    for (let i = kids.length - 1; i >= 0; i--) todo.push({ node: kids[i]!, lead: below, last: i === kids.length - 1 });
  }
  return rows;
}
