/** Worker thread for `fleet`: answers each batch of hosts it is sent, in order (see fleetAnswers). */
import { parentPort, workerData } from 'node:worker_threads';
import type { Profile } from '../variant/profiles.js';
import { fleetHost, type FleetEntry } from './fleet.js';

const { profiles } = workerData as { profiles: Map<string, Profile> };
parentPort!.on('message', (batch: FleetEntry[]) => parentPort!.postMessage(batch.map((e) => fleetHost(e, profiles))));
