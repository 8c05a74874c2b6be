/**
 * The wizard's fleet table, as pure state: what each key does, what the
 * footer offers, and a frame that fits the terminal whatever the fleet.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fleetFrame, fleetKey, fleetView, shownHosts, type FleetViewState } from '../../src/ui/fleet.js';
import { FLEET_BINDINGS } from '../../src/ui/keymap.js';
import { lineText } from '../../src/ui/view.js';
import type { FleetHost, FleetReport } from '../../src/service/fleet.js';

const host = (name: string, o: Partial<FleetHost> = {}): FleetHost => ({ name, path: `/snap/${name}`, supported: true, features: ['luks'], unsupported: [], incomplete: [], variant: 'aaaaaaaaaaaa', error: null, ...o });

function report(n = 200): FleetReport {
  const hosts = Array.from({ length: n }, (_, i) => host(`ws-${String(i).padStart(4, '0')}`, { variant: i % 2 ? 'bbbbbbbbbbbb' : 'aaaaaaaaaaaa' }));
  hosts.push(host('broken', { supported: false, features: [], variant: null, error: '/snap/broken/snapshot.json is missing' }));
  hosts.push(host('old-iscsi', { supported: false, variant: null, unsupported: [{ id: 'iscsi', device: 'sda', reason: 'r', advice: 'keep initramfs-tools ' + 'and more words '.repeat(20) }] }));
  const v = (id: string) => ({ id, distro: 'debian 12', profiles: ['base', 'luks'], packages: ['cryptsetup'], modules: ['dm_crypt'], hosts: hosts.filter((h) => h.variant === id).map((h) => h.name) });
  return { hosts, variants: [v('aaaaaaaaaaaa'), v('bbbbbbbbbbbb')], summary: { hosts: hosts.length, supported: n, unsupported: 1, cannotTell: 0, unreadable: 1, variants: 2 } };
}

const press = (s: FleetViewState, ...keys: Parameters<typeof fleetKey>[1][]) => keys.reduce((st, k) => fleetKey(st, k).state, s);
const footer = (s: FleetViewState) => lineText(fleetFrame(s).at(-1)!);

test('every frame is exactly the terminal\'s size, however long the fleet and its advice', () => {
  for (const [width, height] of [[80, 24], [120, 40], [60, 12]] as const) {
    let s: FleetViewState = { ...fleetView(report(), '/srv/snapshots'), width, height };
    for (const keys of [[], ['end'], ['end', 'up'], ['tab'], ['tab', 'enter'], ['char:?']] as const) {
      const f = fleetFrame(press(s, ...keys));
      assert.equal(f.length, height, `${width}x${height} after ${keys.join(' ')}`);
      for (const l of f) assert.ok(lineText(l).length <= width, lineText(l));
    }
    if (height < 24) continue;
    s = press(s, 'end');
    assert.match(fleetFrame(s).map(lineText).join('\n'), /^old-iscsi .*\niscsi on sda: keep initramfs-tools/m, 'the last host and its advice, wrapped');
  }
});

test('⏎ opens a host, but not one whose snapshot cannot be read; the footer offers only what works', () => {
  const s = fleetView(report(3), 'x');
  assert.equal(fleetKey(s, 'enter').open?.name, 'ws-0000');
  assert.match(footer(s), /⏎ open this host/);
  const broken = press(s, 'end', 'up');
  assert.equal(shownHosts(broken)[broken.hostCursor]!.name, 'broken');
  assert.doesNotMatch(footer(broken), /open this host/);
  const after = fleetKey(broken, 'enter');
  assert.equal(after.open, undefined);
  assert.match(after.state.notice ?? '', /broken cannot be opened/);
  assert.equal(fleetKey(s, 'char:q').quit, true);
  assert.equal(fleetKey(s, 'ctrl-c').quit, true);
});

test('variants: ⏎ lists that variant\'s hosts, esc all of them again', () => {
  const s = press(fleetView(report(10), 'x'), 'tab', 'down', 'enter');
  assert.equal(s.tab, 'hosts');
  assert.equal(s.variant, 'bbbbbbbbbbbb');
  assert.deepEqual(shownHosts(s).map((h) => h.name), ['ws-0001', 'ws-0003', 'ws-0005', 'ws-0007', 'ws-0009']);
  assert.match(footer(s), /esc all hosts/);
  const back = press(s, 'esc');
  assert.equal(back.variant, null);
  assert.equal(shownHosts(back).length, 12);
  assert.doesNotMatch(footer(back), /esc/);
});

test('? lists every fleet binding\'s help once, and any key closes it', () => {
  const s = press(fleetView(report(3), 'x'), 'char:?');
  // Read as words: a long line wraps.
  const text = fleetFrame(s).map(lineText).join(' ').replace(/\s+/g, ' ');
  for (const b of FLEET_BINDINGS) assert.ok(text.includes(b.help), b.help);
  assert.equal(press(s, 'char:j').help, false);
});
