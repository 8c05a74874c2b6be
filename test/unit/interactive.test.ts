import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wantsTui } from '../../src/ui/interactive.js';

test('the TUI needs a terminal on both ends, no CI and no --json', () => {
  const tty = { stdinTTY: true, stdoutTTY: true, env: {}, json: false };
  assert.equal(wantsTui(tty), true);
  assert.equal(wantsTui({ ...tty, stdinTTY: false }), false);
  assert.equal(wantsTui({ ...tty, stdoutTTY: false }), false);
  assert.equal(wantsTui({ ...tty, json: true }), false);
  assert.equal(wantsTui({ ...tty, env: { CI: 'true' } }), false);
  assert.equal(wantsTui({ ...tty, env: { CI: '1' } }), false);
  assert.equal(wantsTui({ ...tty, env: { CI: 'false' } }), true);
});

test('TERM=dumb gets the plain pointer: no cursor movement, no colour', () => {
  assert.equal(wantsTui({ stdinTTY: true, stdoutTTY: true, env: { TERM: 'dumb' }, json: false }), false);
});
