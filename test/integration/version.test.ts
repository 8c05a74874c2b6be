/**
 * Our version orderings must agree with the distro tools themselves: rpm's
 * labelCompare (python3-rpm) and `dpkg --compare-versions`, on hand-picked
 * edge cases and on random version strings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { dpkgEvrCmp, parseEvr, rpmvercmp } from '../../src/packages/version.js';

const EDGE = [
  ['1.0', '1.0'], ['1.0', '2.0'], ['2.0.1', '2.0'], ['2.0.1a', '2.0.1'], ['5.5p1', '5.5p2'], ['5.5p10', '5.5p1'],
  ['10xyz', '10.1xyz'], ['xyz10', 'xyz10.1'], ['xyz.4', '8'], ['1.0~rc1', '1.0'], ['1.0~rc1', '1.0~rc2'],
  ['1.0^', '1.0'], ['1.0^git1', '1.0.1'], ['1.0^git1', '1.0'], ['1.0~rc1^git1', '1.0~rc1'], ['2a', '2.0'],
  ['1b.fc17', '1.fc17'], ['6.0.rc1', '6.0'], ['1.0010', '1.10'], ['1.05', '1.5'], ['1.0', '1'], ['a', 'b'],
  ['1..0', '1.0'], ['1_0', '1.0'], ['~~', '~'], ['^^', '^'], ['1.2.3-beta', '1.2.3'], ['abc', '123'],
];

const hasPythonRpm = spawnSync('/usr/bin/python3', ['-c', 'import rpm'], { stdio: 'ignore' }).status === 0;
const hasDpkg = spawnSync('dpkg', ['--version'], { stdio: 'ignore' }).status === 0;

function rpmAnswers(pairs: string[][]): number[] {
  const script = 'import rpm,sys,json\npairs=json.load(sys.stdin)\nprint(json.dumps([rpm.labelCompare(("0",a,"1"),("0",b,"1")) for a,b in pairs]))';
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', script], { input: JSON.stringify(pairs), encoding: 'utf8' }));
}

test('rpmvercmp agrees with rpm on edge cases', { skip: !hasPythonRpm && 'python3-rpm not installed' }, () => {
  const want = rpmAnswers(EDGE);
  EDGE.forEach(([a, b], i) => assert.equal(rpmvercmp(a!, b!), want[i], `${a} vs ${b}`));
});

test('rpmvercmp agrees with rpm on 3000 random version pairs', { skip: !hasPythonRpm && 'python3-rpm not installed' }, () => {
  const chunk = fc.oneof(fc.constantFrom('.', '~', '^', '_', '+', '-'), fc.stringMatching(/^[0-9]{1,3}$/), fc.stringMatching(/^[a-zA-Z]{1,3}$/));
  const version = fc.array(chunk, { minLength: 1, maxLength: 6 }).map((parts) => parts.join('').replace(/-/g, '.'));
  const pairs = fc.sample(fc.tuple(version, version), { numRuns: 3000, seed: 11 });
  const want = rpmAnswers(pairs);
  pairs.forEach(([a, b], i) => assert.equal(rpmvercmp(a, b), want[i], `${a} vs ${b}`));
});

function dpkgAnswer(a: string, b: string): number {
  if (spawnSync('dpkg', ['--compare-versions', a, 'eq', b]).status === 0) return 0;
  return spawnSync('dpkg', ['--compare-versions', a, 'lt', b]).status === 0 ? -1 : 1;
}

test('dpkg ordering agrees with dpkg --compare-versions', { skip: !hasDpkg && 'dpkg not installed' }, () => {
  const edge = [
    ['1.0', '1.0-1'], ['1:1.0', '2.0'], ['1.0~rc1', '1.0'], ['1.0~~', '1.0~'], ['1.0a', '1.0+'], ['1.0+dfsg-1', '1.0-1'],
    ['2.38.1-5+deb12u1', '2.38.1-5'], ['252.38-1~deb12u1', '252.38-1'], ['0.9', '0.10'], ['1.0.0', '1.0'], ['a', 'B'],
  ];
  const chunk = fc.oneof(fc.constantFrom('.', '~', '+', '-'), fc.stringMatching(/^[0-9]{1,3}$/), fc.stringMatching(/^[a-z]{1,2}$/));
  const version = fc
    .array(chunk, { minLength: 1, maxLength: 5 })
    .map((p) => `${Math.random() < 0.1 ? '1:' : ''}1${p.join('')}`)
    .filter((v) => !v.endsWith('-') && !/-[^0-9a-z]/.test(v));
  const random = fc.sample(fc.tuple(version, version), { numRuns: 300, seed: 5 });
  for (const [a, b] of [...edge, ...random] as Array<[string, string]>) {
    assert.equal(dpkgEvrCmp(parseEvr(a), parseEvr(b)), dpkgAnswer(a, b), `${a} vs ${b}`);
  }
});
