/**
 * Commands the tool prints for the user to run are pasteable: this program as
 * the shell can start it, and every argument read back as the same word.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { commandLine } from '../../src/paths.js';
import { formatArgv } from '../../src/system/run.js';
import { CLI, runCli } from '../helpers.js';

test('arguments: safe words stay bare, anything else comes back from sh as the same word', () => {
  assert.equal(formatArgv(['/var/tmp/root-1']), '/var/tmp/root-1');
  assert.equal(formatArgv(['--root']), '--root');
  for (const w of ['/tmp/my root', "it's", '$(reboot)', 'a;b', '`x`', 'tab\there', '']) {
    const back = execFileSync('sh', ['-c', `printf %s ${formatArgv([w])}`], { encoding: 'utf8' });
    assert.equal(back, w, `${JSON.stringify(w)} as ${formatArgv([w])}`);
  }
});

test('commandLine names this program first and quotes a root with a space', () => {
  assert.match(commandLine('revert', '--root', '/tmp/a b'), /^\S*initrd-wizard\S* revert --root '\/tmp\/a b'$/);
});

test('the plain pointer names the subcommands as this shell can run them (node …/initrd-wizard.js when not on PATH)', async () => {
  const r = await runCli([], { CI: '1', PATH: '/usr/bin:/bin' });
  assert.equal(r.code, 0);
  assert.match(r.stdout, new RegExp(`^ {2}(node )?${CLI.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} detect +what the initrd`, 'm'));
});
