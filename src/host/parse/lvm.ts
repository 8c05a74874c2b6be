/** `lvm fullreport --reportformat json`: every value is a string. */
import { parsed, parseFailure, type Parsed } from '../../errors.js';
import { parseJsonText } from './json.js';

export interface LvmLv {
  vg: string;
  name: string;
  /** lv_layout, e.g. "linear", "thin,sparse", "thin,pool", "raid,raid1". */
  layout: string;
  pool: string | null;
  dmPath: string | null;
}

export interface LvmReport {
  lvs: LvmLv[];
  pvs: Array<{ name: string; vg: string }>;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const s = (v: unknown) => (typeof v === 'string' ? v : '');

export function parseLvmReport(text: string): Parsed<LvmReport> {
  if (!text.trim()) return parsed({ lvs: [], pvs: [] });
  const r = parseJsonText(text);
  if (!r.ok) return r;
  const json = r.value;
  if (!isObject(json) || !Array.isArray(json.report)) return parseFailure('no "report" list: not lvm --reportformat json output');
  const lvs: LvmLv[] = [];
  const pvs: Array<{ name: string; vg: string }> = [];
  for (const r of json.report) {
    if (!isObject(r)) continue;
    const firstLv = lvs.length;
    if (Array.isArray(r.lv)) {
      for (const lv of r.lv) {
        if (!isObject(lv)) continue;
        lvs.push({
          vg: s(lv.vg_name),
          name: s(lv.lv_name),
          layout: s(lv.lv_layout),
          pool: s(lv.pool_lv) || null,
          dmPath: s(lv.lv_dm_path) || null,
        });
      }
    }
    if (Array.isArray(r.pv)) {
      for (const pv of r.pv) if (isObject(pv)) pvs.push({ name: s(pv.pv_name), vg: s(pv.vg_name) });
    }
    // fullreport nests vg name at the report level for lv rows missing vg_name.
    // Only this entry's rows: revisiting all earlier ones made many entries quadratic.
    const vgName = Array.isArray(r.vg) && isObject(r.vg[0]) ? s(r.vg[0].vg_name) : '';
    if (vgName) for (let i = firstLv; i < lvs.length; i++) if (!lvs[i]!.vg) lvs[i]!.vg = vgName;
  }
  return parsed({ lvs, pvs });
}
