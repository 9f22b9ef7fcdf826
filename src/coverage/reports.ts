// Connection-quality reports from devices and provider coverage data: validation (positions
// on the globe, times neither in the future nor far past, plausible radio figures), so that a
// bad row is refused with a reason before it reaches the map.
import { fail } from '../core/errors.js';
import { onGlobe } from './geo.js';

export const MAX_BATCH = 1000;
/** Reports older than this are refused (the map decays them to nothing anyway). */
export const MAX_AGE_MS = 30 * 86_400_000;
/** Clock skew tolerated for reports from the future. */
export const MAX_SKEW_MS = 5 * 60_000;
export const MODES = [
  '5G',
  'NR',
  'LTE',
  'LTE-A',
  'HSPA+',
  'HSPA',
  'HSDPA',
  'HSUPA',
  'UMTS',
  'EDGE',
  'GPRS',
  'NONE',
];
const DEGRADED = new Set(['HSPA+', 'HSPA', 'HSDPA', 'HSUPA', 'UMTS', 'EDGE', 'GPRS', 'NONE']);

/** 3G or worse (or no service): poor under rules that count a fall to 3G as poor. */
export function isDegraded(mode: string | null | undefined): boolean {
  return mode !== null && mode !== undefined && DEGRADED.has(mode.toUpperCase());
}

export interface QualityReport {
  readonly sim: string;
  readonly network: string;
  readonly lat: number;
  readonly lng: number;
  readonly t: number;
  readonly rsrp: number;
  readonly rsrq: number | null;
  readonly sinr: number | null;
  readonly throughputKbps: number | null;
  readonly packetLoss: number | null;
  readonly connectedDevices: number | null;
  readonly mode: string | null;
}

function numberField(
  r: Record<string, unknown>,
  name: string,
  i: number,
  min: number,
  max: number,
  required = false,
): number | null {
  const v = r[name];
  if (v === undefined || v === null) {
    if (required) fail('reportRejected', `reports[${i}].${name} is required`);
    return null;
  }
  const n =
    typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  if (!Number.isFinite(n)) fail('reportRejected', `reports[${i}].${name} must be a number`);
  if (n < min || n > max)
    fail('reportRejected', `reports[${i}].${name} must be between ${min} and ${max}`);
  return n;
}

/** A report's time: ISO 8601 or epoch ms/seconds, within [now - MAX_AGE, now + MAX_SKEW]. */
export function reportTime(v: unknown, now: number, where: string): number {
  let t: number;
  if (typeof v === 'number') t = v < 1e11 ? v * 1000 : v;
  else if (typeof v === 'string')
    t = /^\d+$/.test(v) ? Number(v) * (v.length <= 10 ? 1000 : 1) : Date.parse(v);
  else return fail('reportRejected', `${where}.time is required`);
  if (!Number.isFinite(t)) fail('reportRejected', `${where}.time is not a date`);
  if (t > now + MAX_SKEW_MS) fail('reportRejected', `${where}.time is in the future`);
  if (t < now - MAX_AGE_MS) fail('reportRejected', `${where}.time is more than 30 days old`);
  return t;
}

/** Validates a batch of reports (JSON body `{"reports": [...]}`); throws on the first bad one. */
export function parseReports(body: unknown, now: number): QualityReport[] {
  const list = (body as { reports?: unknown } | null)?.reports;
  if (!Array.isArray(list)) fail('reportRejected', 'the body must be {"reports": [...]}');
  if (list.length === 0) fail('reportRejected', 'reports is empty');
  if (list.length > MAX_BATCH) fail('reportRejected', `at most ${MAX_BATCH} reports per batch`);
  return list.map((raw, i) => {
    if (typeof raw !== 'object' || raw === null)
      fail('reportRejected', `reports[${i}] must be an object`);
    const r = raw as Record<string, unknown>;
    const sim = r.sim;
    const network = r.network;
    if (typeof sim !== 'string' || !/^HS[0-9a-f]{32}$/.test(sim))
      fail('reportRejected', `reports[${i}].sim must be a SIM SID`);
    if (typeof network !== 'string' || !/^HW[0-9a-f]{32}$/.test(network))
      fail('reportRejected', `reports[${i}].network must be a Network SID`);
    const lat = numberField(r, 'latitude', i, -90, 90, true)!;
    const lng = numberField(r, 'longitude', i, -180, 180, true)!;
    if (!onGlobe(lat, lng)) fail('reportRejected', `reports[${i}] position is off the globe`);
    const mode = r.network_mode;
    if (mode !== undefined && (typeof mode !== 'string' || !MODES.includes(mode.toUpperCase())))
      fail('reportRejected', `reports[${i}].network_mode must be one of ${MODES.join(', ')}`);
    return {
      sim,
      network,
      lat,
      lng,
      t: reportTime(r.time, now, `reports[${i}]`),
      rsrp: numberField(r, 'rsrp', i, -156, -31, true)!,
      rsrq: numberField(r, 'rsrq', i, -43, 20),
      sinr: numberField(r, 'sinr', i, -23, 40),
      throughputKbps: numberField(r, 'throughput_kbps', i, 0, 10_000_000),
      packetLoss: numberField(r, 'packet_loss', i, 0, 1),
      connectedDevices: numberField(r, 'connected_devices', i, 0, 1_000_000),
      mode: typeof mode === 'string' ? mode.toUpperCase() : null,
    };
  });
}
