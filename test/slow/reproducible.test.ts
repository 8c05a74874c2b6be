/**
 * Reproducible builds on the three toolchains (shared/docs/toolchains.md):
 * `build --check-reproducible` builds the fixture's variant twice with the
 * real mkosi-initrd of bookworm (this host, mkosi 24.3), trixie (25.3) and sid
 * (27.1) and compares the images member by member. The two builds run
 * back to back from the same package metadata, so they must be byte-identical:
 * no differing member, the same sha256, and the command's exit status 0.
 *
 * One check per toolchain, on a UKI (`--format uki`, the LUKS2+TPM2 btrfs host
 * of the toolchain tests): every PE section, and every member of the embedded
 * initrd, which is the very cpio mkosi-initrd wrote (ukify only wraps it), so
 * the cpio format is covered too without two more builds.
 *
 * Cost: two builds per toolchain (about 1 min each alone on this machine, 3-5
 * min under the load of a full CI run).
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseMkosiVersion } from '../../src/mkosi/version.js';
import { SOURCE_DATE_EPOCH } from '../../src/mkosi/render.js';
import { readInitrd } from '../../src/image/cpio.js';
import type { ReproducibleJson } from '../../src/commands/reproducible.js';
import { isRoot, CLI } from '../helpers.js';
import { findSection, readPe, sectionData } from '../../src/image/pe.js';
import { ensureChroot, inChroot, type ChrootRun } from '../support/toolchain.js';

const exec = promisify(execFile);
const hostMkosi = parseMkosiVersion(spawnSync('mkosi', ['--version'], { encoding: 'utf8' }).stdout ?? '');
const skip = !isRoot ? 'needs root' : !hostMkosi || hostMkosi.major < 24 ? 'mkosi >= 24 missing (bash test/mkosi/setup-host.sh)' : false;

const TOOLCHAINS = [
  { name: 'bookworm', mkosi: /^24\./ },
  { name: 'trixie', mkosi: /^25\./ },
  { name: 'sid', mkosi: /^2[7-9]\./ },
] as const;

for (const tc of TOOLCHAINS) {
  describe(`reproducible builds on ${tc.name}`, { skip, concurrency: 1 }, () => {
    let root = '/';
    let kver = '';
    const cli = async (args: string[]): Promise<ChrootRun> => {
      if (root === '/') return exec(process.execPath, [CLI, ...args], { maxBuffer: 256 << 20 }).then((r) => ({ code: 0, ...r }), (e) => ({ code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }));
      return inChroot(root, ['node', 'dist/bin/initrd-wizard.js', ...args]);
    };

    before(async () => {
      if (tc.name !== 'bookworm') root = await ensureChroot(tc.name);
      const modules = path.join(root, 'usr/lib/modules');
      kver = readdirSync(modules).find((k) => existsSync(path.join(modules, k, 'modules.dep'))) ?? '';
      assert.ok(kver, `a kernel with modules in ${root}`);
    });

    test('two UKIs of the same variant are byte-identical (every PE section, every member of the embedded initrd), and the first is kept where build puts it', { timeout: 1_800_000 }, async (t) => {
      const out = `/var/tmp/iw-reproducible-${tc.name}.efi`;
      const onHost = path.join(root, out);
      try {
        const started = performance.now();
        // The UKI host of the toolchain tests, whose command line unlocks the root: the checks pass.
        const r = await cli(['build', '--check-reproducible', '--format', 'uki', '--snapshot', 'test/fixtures/snapshots/btrfs-luks-tpm2', '--kernel-version', kver, '-o', out, '--json']);
        const wallS = (performance.now() - started) / 1000;
        let j: ReproducibleJson & { mkosiVersion: string; ok: boolean; output: string };
        try {
          j = JSON.parse(r.stdout);
        } catch {
          assert.fail(`no JSON (exit ${r.code}):\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
        }
        assert.match(j.mkosiVersion, tc.mkosi);
        assert.equal(j.comparedAs, 'uki', 'the images were compared as UKIs');
        assert.ok(j.ok, 'the kept UKI passes its checks');
        // Every differing member is listed with its cause: the message shows them if this fails.
        assert.deepEqual(j.differences.map((d) => `${d.member} [${d.fields.join(',')}] ${d.cause}`), [], `${tc.name}: members differ`);
        assert.equal(j.identical, true);
        assert.equal(r.code, 0, r.stderr.slice(-2000));
        assert.equal(j.builds.length, 2);
        assert.equal(j.builds[0]!.sha256, j.builds[1]!.sha256);
        assert.deepEqual(j.reproducible, { identical: true, differences: [], extraMs: j.extraBuildMs });
        // The kept image is at -o and is the hashed one; the comparison build is gone.
        assert.equal(j.output, out);
        assert.equal(j.builds[0]!.output, out);
        assert.ok(!existsSync(path.join(root, j.builds[1]!.output)), 'the comparison build is removed');
        const raw = await readFile(onHost);
        assert.equal(createHash('sha256').update(raw).digest('hex'), j.builds[0]!.sha256);
        const pe = readPe(raw);
        const initrd = findSection(pe, '.initrd');
        assert.ok(initrd, 'the UKI has an .initrd section');
        const image = await readInitrd(sectionData(raw, initrd));
        assert.deepEqual([...image.entries.values()].filter((e) => e.mtime > SOURCE_DATE_EPOCH).map((e) => e.name), [], 'no member of the embedded initrd newer than SourceDateEpoch=');
        assert.ok(j.extraBuildMs > 0 && j.extraBuildMs < wallS * 1000);
        t.diagnostic(`${tc.name}: mkosi ${j.mkosiVersion}, UKI ${pe.sections.map((s) => s.name).join(' ')}, ${image.entries.size} initrd members, identical; the check added ${(j.extraBuildMs / 1000).toFixed(0)} s (wall ${wallS.toFixed(0)} s)`);
      } finally {
        await rm(onHost, { force: true });
        await rm(`${onHost}.log`, { force: true });
      }
    });
  });
}
