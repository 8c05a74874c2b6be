import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  systemRunner,
  CommandFailedError,
  CommandNotFoundError,
  CommandTimeoutError,
  CommandCancelledError,
} from '../../src/system/run.js';

test('a missing program is "not installed", not "failed"', async () => {
  await assert.rejects(systemRunner.run(['initrd-wizard-no-such-program']), (err: unknown) => {
    assert.ok(err instanceof CommandNotFoundError);
    assert.match(err.message, /not installed/);
    assert.deepEqual(err.argv, ['initrd-wizard-no-such-program']);
    return true;
  });
});

test('a failing program carries its command, exit code and stderr', async () => {
  await assert.rejects(systemRunner.run(['sh', '-c', 'echo out; echo broken >&2; exit 7']), (err: unknown) => {
    assert.ok(err instanceof CommandFailedError);
    assert.equal(err.exitCode_, 7);
    assert.equal(err.stderr.trim(), 'broken');
    assert.equal(err.stdout.trim(), 'out');
    assert.match(err.message, /exit code 7: broken/);
    return true;
  });
});

test('extra accepted exit codes return normally', async () => {
  const r = await systemRunner.run(['sh', '-c', 'exit 1'], { okExitCodes: [1] });
  assert.equal(r.exitCode, 1);
});

test('every call has a timeout that kills the child', async () => {
  const started = Date.now();
  await assert.rejects(systemRunner.run(['sleep', '10'], { timeoutMs: 200 }), CommandTimeoutError);
  assert.ok(Date.now() - started < 5000);
});

test('an abort signal cancels the child', async () => {
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 100);
  await assert.rejects(systemRunner.run(['sleep', '10'], { signal: ac.signal }), CommandCancelledError);
});

test('argv is never interpreted by a shell', async () => {
  const r = await systemRunner.run(['echo', 'a; echo injected', '$(id)']);
  assert.equal(r.stdout, 'a; echo injected $(id)\n');
});

test('output can be followed line by line while the command runs', async () => {
  const lines: string[] = [];
  await systemRunner.run(['sh', '-c', 'echo one; echo two >&2; echo three'], { onLine: (l, s) => lines.push(`${s}:${l}`) });
  assert.deepEqual(lines.filter((l) => l.startsWith('stdout')), ['stdout:one', 'stdout:three']);
  assert.ok(lines.includes('stderr:two'));
});

test('a timeout stops grandchildren too, so a child shell cannot keep the call waiting', async () => {
  const started = Date.now();
  await assert.rejects(systemRunner.run(['sh', '-c', 'sleep 30; echo late'], { timeoutMs: 200 }), CommandTimeoutError);
  assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
});
