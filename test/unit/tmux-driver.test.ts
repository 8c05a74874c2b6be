import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSession, type TmuxSession } from '../support/tmux.js';

async function withSession(opts: Parameters<typeof startSession>[0], body: (s: TmuxSession) => Promise<void>): Promise<void> {
  const s = await startSession(opts);
  try {
    await body(s);
  } finally {
    await s.kill();
  }
}

test('typed text and Enter reach the program; its output, final screen and exit status are read back', async () => {
  await withSession({ argv: ['bash', '-c', 'echo ready; read -r x; echo "got:$x"; exit 3'], cols: 60, rows: 10 }, async (s) => {
    await s.waitFor('ready');
    assert.equal(await s.exitStatus(), null, 'still running while it waits for input');
    await s.type('-n Enter $HOME #{pane_id} a; b\\;');
    await s.keys('Enter');
    const screen = await s.waitFor(/got:.*\n/);
    assert.match(screen, /^got:-n Enter \$HOME #\{pane_id\} a; b\\;$/m, 'literal text: no key names, formats or shell expansion');
    assert.equal(await s.waitForExit(2000), 3);
    assert.equal(await s.exitStatus(), 3);
    // The final screen stays exactly as the program left it: no "Pane is dead" line.
    const final = await s.capture();
    assert.deepEqual(final.split('\n').slice(0, 3), ['ready', '-n Enter $HOME #{pane_id} a; b\\;', 'got:-n Enter $HOME #{pane_id} a; b\\;']);
    assert.doesNotMatch(final, /Pane is dead/);
    await s.type('late keys');
    await s.keys('Enter');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await s.capture(), final, 'keys sent after the exit do not change the final screen');
    assert.equal(final.split('\n').filter((l, i, a) => i < a.length - 1 || l !== '').length, 10, 'one line per row');
  });
});

test('argv reaches the program word for word (no shell), with TERM, extra env, a removed variable and cwd', async (t) => {
  process.env.IW_GONE = 'this process has it';
  t.after(() => {
    delete process.env.IW_GONE;
  });
  const cwd = os.tmpdir();
  await withSession(
    {
      argv: ['bash', '-c', 'printf "[%s]" "$@"; echo; echo "term=$TERM foo=$FOO pwd=$PWD tmux=${TMUX-unset} gone=${IW_GONE-unset}"; echo "$(tput colors) colours"', 'bash', 'a b', '$HOME', "it's", '*', ';', 'a;', 'b\\;', '{', '}', '#{session_name}', '~', '"q"', ''],
      env: { FOO: 'x y;z', IW_GONE: undefined },
      cwd,
      cols: 100,
      rows: 6,
    },
    async (s) => {
      assert.equal(await s.waitForExit(), 0);
      const lines = (await s.capture()).split('\n');
      assert.equal(lines[0], `[a b][$HOME][it's][*][;][a;][b\\;][{][}][#{session_name}][~]["q"][]`);
      assert.equal(lines[1], `term=xterm-256color foo=x y;z pwd=${cwd} tmux=unset gone=unset`);
      assert.equal(lines[2], '256 colours');
    },
  );
});

test('the pane is COLS x ROWS (120x40 unless told), and resize() changes it and sends SIGWINCH', async () => {
  await withSession({ argv: ['bash', '-c', 'while read -r x; do echo "size:$(stty size)"; done'] }, async (s) => {
    await s.keys('Enter');
    await s.waitFor('size:40 120');
    await s.resize(80, 24);
    await s.keys('Enter');
    await s.waitFor('size:24 80');
    assert.equal((await s.capture()).replace(/\n$/, '').split('\n').length, 24);
  });
  await withSession(
    { argv: ['bash', '-c', 'trap \'echo "winch:$(tput cols)x$(tput lines)"\' WINCH; echo armed; while :; do sleep 0.05; done'], cols: 50, rows: 12 },
    async (s) => {
      await s.waitFor('armed');
      await s.resize(70, 15);
      await s.waitFor('winch:70x15');
    },
  );
});

test('named keys: Down arrives as an escape sequence, C-c interrupts (exit status 128 + SIGINT)', async () => {
  await withSession({ argv: ['bash', '-c', 'IFS= read -r -s -n3 k; printf "key=%q\\n" "$k"; sleep 30'], cols: 40, rows: 5 }, async (s) => {
    await s.keys('Down');
    await s.waitFor("key=$'\\E[B'");
    await s.keys('C-c');
    assert.equal(await s.waitForExit(2000), 130);
  });
  await withSession({ argv: ['sleep', '30'], cols: 40, rows: 5 }, async (s) => {
    await s.sendKeys('C-c');
    assert.equal(await s.waitForExit(2000), 130);
  });
});

test('capture({ ansi: true }) keeps colours, reverse video and coloured trailing blanks; plain capture has none', async () => {
  await withSession({ argv: ['printf', '\\033[31mRED\\033[0m \\033[7mREV\\033[0m\\n\\033[7m bar      \\033[0m\\n'], cols: 40, rows: 4 }, async (s) => {
    await s.waitForExit();
    const plain = await s.capture();
    const ansi = await s.capture({ ansi: true });
    assert.match(plain, /^RED REV$/m);
    assert.doesNotMatch(plain, /\x1b/);
    assert.match(ansi, /\x1b\[31mRED/);
    assert.match(plain, /^ bar$/m);
    // tmux writes only changes, so reverse video runs on into the next row, blanks and all.
    assert.match(ansi, /\x1b\[7mREV\n bar {6}\n/);
  });
});

test('waitFor fails with the last screen: on timeout, and at once when the program exits without showing it', async () => {
  await withSession({ argv: ['bash', '-c', 'echo still-here; sleep 30'], cols: 40, rows: 4 }, async (s) => {
    const t0 = Date.now();
    await assert.rejects(s.waitFor('never', { timeoutMs: 300 }), (e: Error) => {
      assert.match(e.message, /timed out after 300 ms/);
      assert.match(e.message, /\|still-here/);
      return true;
    });
    assert.ok(Date.now() - t0 < 2000);
    await assert.rejects(s.waitForExit(200), /still runs after 200 ms[\s\S]*still-here/);
  });
  await withSession({ argv: ['bash', '-c', 'echo bye; exit 7'], cols: 40, rows: 4 }, async (s) => {
    const t0 = Date.now();
    await assert.rejects(s.waitFor(/never/, { timeoutMs: 10_000 }), /exited \(status 7\)[\s\S]*\|bye/);
    assert.ok(Date.now() - t0 < 5000, 'does not wait for the timeout once the program is gone');
  });
});

test('a program that prints and exits at once: its output and exit status are never lost', async () => {
  // tmux 3.3's own remain-on-exit lost one or the other in about one run in five.
  for (let i = 0; i < 12; i++) {
    await withSession({ argv: ['sh', '-c', `echo bye-${i}; exit ${i}`], cols: 20, rows: 3 }, async (s) => {
      assert.equal(await s.waitForExit(), i);
      assert.match(await s.capture(), new RegExp(`^bye-${i}$`, 'm'));
    });
  }
});

test('a program that is not there: status 127 and the shell\'s message on the screen', async () => {
  await withSession({ argv: ['/nonexistent/prog', 'x'], cols: 60, rows: 3 }, async (s) => {
    assert.equal(await s.waitForExit(), 127);
    assert.match(await s.capture(), /nonexistent\/prog.*not found/);
  });
});

test('kill() ends the private server, removes its socket, is idempotent; the session is unusable afterwards', async () => {
  const s = await startSession({ argv: ['sleep', '30'], cols: 20, rows: 3 });
  const has = () => spawnSync('tmux', ['-L', s.socket, 'has-session'], { stdio: 'ignore' }).status;
  assert.equal(has(), 0);
  const socketPath = path.join(process.env.TMUX_TMPDIR || '/tmp', `tmux-${process.getuid?.() ?? 0}`, s.socket);
  assert.ok(existsSync(socketPath), socketPath);
  await s.kill();
  await s.kill();
  assert.notEqual(has(), 0);
  assert.ok(!existsSync(socketPath), 'socket file removed');
  await assert.rejects(s.capture(), /already killed/);
});

test('two sessions at once do not share a server', async () => {
  const a = await startSession({ argv: ['bash', '-c', 'echo A; sleep 30'], cols: 20, rows: 3 });
  const b = await startSession({ argv: ['bash', '-c', 'echo B; sleep 30'], cols: 20, rows: 3 });
  try {
    assert.notEqual(a.socket, b.socket);
    await a.waitFor('A');
    await b.waitFor('B');
    await b.kill();
    assert.equal(await a.exitStatus(), null, 'killing one leaves the other running');
  } finally {
    await a.kill();
    await b.kill();
  }
});
