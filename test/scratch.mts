import { makeRoot } from './support/roots.js';
import { rmSync } from 'node:fs';
rmSync('/tmp/r3', { recursive: true, force: true });
await makeRoot('/tmp/r3', 'commented-install-conf');
