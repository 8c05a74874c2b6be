import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseReq, reqToString } from '../../src/packages/deps.js';

test('rich dependencies parse into their operators', () => {
  const cases: Array<[string, string]> = [
    ['(a and b and c)', '(a and b and c)'],
    ['(a or (b >= 1.2-3 with b < 2))', '(a or (b >= 1.2-3 with b < 2))'],
    ['(plugin if host else fallback)', '(plugin if host else fallback)'],
    ['(x unless y)', '(x unless y)'],
    ['(tool without tool-broken)', '(tool without tool-broken)'],
    ['(libfoo.so.1()(64bit) if bar)', '(libfoo.so.1()(64bit) if bar)'],
    ['libfoo.so.1()(64bit)', 'libfoo.so.1()(64bit)'],
    ['glibc >= 2:2.38-1', 'glibc >= 2:2.38-1'],
  ];
  for (const [text, back] of cases) {
    const r = parseReq(text);
    assert.ok(r.ok, `${text}: ${!r.ok ? r.error : ''}`);
    assert.equal(reqToString(r.req), back);
  }
});

test('malformed rich dependencies are typed errors, never throws', () => {
  for (const bad of ['(a and b or c)', '(a and', '(', '()', '(a if)', '(and b)', '(a) b']) {
    const r = parseReq(bad);
    assert.equal(r.ok, false, bad);
  }
  fc.assert(
    fc.property(fc.array(fc.constantFrom('(', ')', 'a', 'b', ' and ', ' or ', ' if ', ' else ', ' with ', ' without ', ' >= ', '1.0', ' '), { maxLength: 20 }), (parts) => {
      const r = parseReq(parts.join(''));
      assert.ok(typeof r.ok === 'boolean');
    }),
    { numRuns: 3000, seed: 1 },
  );
});
