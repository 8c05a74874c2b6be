/**
 * Test hooks for fault injection, off unless their variable is set:
 * - INITRD_WIZARD_FAULT=apply:N (or revert:N): SIGKILL this process at the Nth
 *   step boundary of an install or revert;
 * - INITRD_WIZARD_FAULT_ERRNO=N:CODE (CODE = EPERM, EROFS, ENOSPC …): the Nth
 *   change to the file system in this process fails with that errno, once.
 */

export function killPoint(op: 'apply' | 'revert', counter: { n: number }): void {
  counter.n++;
  const spec = process.env.INITRD_WIZARD_FAULT;
  if (spec && spec === `${op}:${counter.n}`) process.kill(process.pid, 'SIGKILL');
}

let mutations = 0;

/** Called before every change to the file system (create, write, rename, link, unlink, mkdir, rmdir). */
export function mutation(op: string, hostPath: string): void {
  const spec = process.env.INITRD_WIZARD_FAULT_ERRNO;
  if (!spec) return;
  mutations++;
  const [n, code] = spec.split(':');
  if (Number(n) === mutations && code) {
    throw Object.assign(new Error(`${code}: injected at ${op} ${hostPath}`), { code, syscall: op, path: hostPath });
  }
}
