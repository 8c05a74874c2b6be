/**
 * The user's package and profile choices, kept with `conf` per host and
 * distribution so a second run offers them again. INITRD_WIZARD_CONFIG_DIR
 * moves the file (tests, and sudo users who want it beside the project).
 */
import Conf from 'conf';
import { z } from 'zod';
import type { Choices, Prefs, SavedChoices } from './services.js';

const names = z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._+-]*$/)).max(10_000);
const saved = z.object({
  choices: z.object({ addProfiles: names, dropProfiles: names, add: names, remove: names }),
  savedAt: z.string(),
});

export function confPrefs(dir = process.env.INITRD_WIZARD_CONFIG_DIR): Prefs {
  let store: Conf<Record<string, unknown>> | null = null;
  const open = () => (store ??= new Conf<Record<string, unknown>>({ projectName: 'initrd-wizard', configName: 'choices', ...(dir ? { cwd: dir } : {}), accessPropertiesByDotNotation: false }));
  return {
    load(key) {
      try {
        const r = saved.safeParse(open().get(key));
        return r.success ? r.data : null;
      } catch {
        // An unreadable or corrupt file only loses the convenience, never the run.
        return null;
      }
    },
    save(key, choices: Choices) {
      const empty = !choices.add.length && !choices.remove.length && !choices.addProfiles.length && !choices.dropProfiles.length;
      try {
        if (empty) open().delete(key);
        else open().set(key, { choices, savedAt: new Date().toISOString() } satisfies SavedChoices);
      } catch {
        /* read-only home: choices are simply not remembered */
      }
    },
    clear(key) {
      try {
        open().delete(key);
      } catch {
        /* nothing to clear */
      }
    },
  };
}

/** For tests and the demo's throwaway runs. */
export function memoryPrefs(initial: Record<string, SavedChoices> = {}): Prefs {
  const m = new Map(Object.entries(initial));
  return {
    load: (k) => m.get(k) ?? null,
    save: (k, choices) => void m.set(k, { choices, savedAt: new Date().toISOString() }),
    clear: (k) => void m.delete(k),
  };
}
