// The coverage extension API (domain 'coverage', /coverage/v1/…): device connection-quality
// reports, position reports answered with the prediction, map queries (cell, path, area,
// GeoJSON export), provider coverage imports, fleet rules and route advice.
import { isValidCell } from 'h3-js';
import { fail, TwilioError } from '../core/errors.js';
import type { RestRequest, RestRoute } from '../core/rest.js';
import { onGlobe, type LatLng } from './geo.js';
import { csvColumns, csvSamples, geojsonSamples } from './import.js';
import { cellCentre, cellRing } from './map.js';
import type { Motion, PositionOutcome } from './motion.js';
import { poorSecondsAlong } from './motion.js';
import { expectedPath, type RoutePoint } from './predictor.js';
import { MODES, parseReports, reportTime } from './reports.js';
import { DEFAULT_RULES, type FleetRules, type RulesStore } from './rules.js';
import type { CoverageService } from './service.js';
import type { SuperSimStore } from './supersim-store.js';

export interface CoverageRouteDeps {
  readonly service: CoverageService;
  readonly sims: SuperSimStore;
  readonly rules: RulesStore;
  readonly motion: Motion;
}

function json(req: RestRequest): unknown {
  try {
    return JSON.parse(req.rawBody ?? '');
  } catch {
    return fail('malformedBody', 'the body must be JSON');
  }
}

/** "lat,lng[,t];lat,lng[,t];…" or a JSON array of [lat, lng] / {lat, lng, t}. */
export function parsePoints(raw: string | undefined, name: string, max = 2000): RoutePoint[] {
  if (raw === undefined || raw.trim() === '') return [];
  let items: unknown[];
  if (raw.trim().startsWith('[')) {
    try {
      items = JSON.parse(raw) as unknown[];
    } catch {
      return fail('invalidParameter', `${name} is not valid JSON`);
    }
  } else items = raw.split(';').map((p) => p.split(',').map(Number));
  if (!Array.isArray(items) || items.length > max)
    fail('invalidParameter', `${name}: at most ${max} points`);
  return items.map((it, i) => {
    const a = Array.isArray(it)
      ? it
      : [(it as { lat?: unknown }).lat, (it as { lng?: unknown }).lng, (it as { t?: unknown }).t];
    const [lat, lng, t] = a.map(Number) as [number, number, number | undefined];
    if (!onGlobe(lat, lng))
      fail('invalidParameter', `${name}[${i}] is not a position on the globe`);
    return t !== undefined && Number.isFinite(t) ? { lat, lng, t } : { lat, lng };
  });
}

function outcomeJson(o: PositionOutcome, threshold: number, horizon: number) {
  return {
    sim_sid: o.simSid,
    network_sid: o.networkSid,
    poor_now: o.poorNow,
    warning: o.warning,
    prediction: {
      poor_ahead: o.prediction.poorAhead,
      probability: Number(o.prediction.probability.toFixed(3)),
      entry_in_seconds: o.prediction.entryInS === null ? null : Math.round(o.prediction.entryInS),
      duration_seconds: o.prediction.durationS === null ? null : Math.round(o.prediction.durationS),
      confidence: Number(o.prediction.confidence.toFixed(3)),
      crowd_passes: o.prediction.passes,
      threshold_dbm: threshold,
      horizon_seconds: horizon,
    },
    decisions: o.decisions,
  };
}

function rulesJson(fleetSid: string, r: FleetRules) {
  return {
    fleet_sid: fleetSid,
    poor_rsrp_dbm: r.poorRsrpDbm,
    poor_on_3g: r.poorOn3g,
    horizon_seconds: r.horizonS,
    priority_ports: r.priorityPorts,
    prioritise: r.prioritise,
    hold_bulk: r.holdBulk,
    switch_networks: r.switchNetworks,
    min_dwell_seconds: r.minDwellS,
    switch_margin: r.switchMargin,
    callback_url: r.callbackUrl,
    commands_per_second: r.commandsPerSecond,
  };
}

export function coverageRoutes(d: CoverageRouteDeps): RestRoute[] {
  const { service, sims } = d;
  const map = service.map;
  const cellJson = (network: string, cell: string, threshold: number) => {
    const v = map.view(network, cell, threshold);
    const c = cellCentre(cell);
    return {
      cell,
      network_sid: network,
      latitude: c.lat,
      longitude: c.lng,
      samples: v.samples,
      weight: Number(v.weight.toFixed(3)),
      mean_rsrp: v.meanRsrp === null ? null : Number(v.meanRsrp.toFixed(1)),
      poor_probability: v.poorProbability === null ? null : Number(v.poorProbability.toFixed(3)),
      degraded_share: Number(v.degradedShare.toFixed(3)),
      // The crowd history's passes through the cell (the predictor's "what came next").
      crowd_passes: service.history.passCount(network, cell),
    };
  };
  const thresholdParam = { name: 'Threshold', type: 'number', min: -156, max: -31 } as const;
  return [
    {
      method: 'POST',
      domain: 'coverage',
      path: '/v1/Reports',
      summary: 'Ingest a batch (≤ 1,000) of device connection-quality reports (JSON)',
      rawBody: true,
      async handler(req) {
        const reports = parseReports(json(req), Date.now());
        // Every SIM and network named must be the account's: one look-up each per batch.
        for (const sim of new Set(reports.map((r) => r.sim))) {
          const row = await sims.simAnyAccount(sim);
          if (!row || row.account_sid !== req.account.sid) fail('notFound', `Sim ${sim}`);
        }
        for (const n of new Set(reports.map((r) => r.network)))
          await sims.network(req.account.sid, n);
        service.ingest(reports);
        return { status: 202, body: { accepted: reports.length } };
      },
    },
    {
      method: 'POST',
      domain: 'coverage',
      path: '/v1/Sims/:Sid/Positions',
      summary: "Report a SIM's position; answered with its current poor-coverage prediction",
      params: [
        { name: 'Latitude', type: 'number', required: true },
        { name: 'Longitude', type: 'number', required: true },
        { name: 'Timestamp', type: 'string', max: 40 },
        { name: 'Speed', type: 'number', min: 0, max: 150 },
        { name: 'Heading', type: 'number', min: 0, max: 360 },
        { name: 'Rsrp', type: 'number', min: -156, max: -31 },
        { name: 'NetworkMode', type: 'enum', values: MODES },
        { name: 'Network', type: 'sid', prefix: 'HW' },
        { name: 'Route', type: 'string', max: 200_000 },
      ],
      async handler(req) {
        const i = req.input;
        const lat = i.number('Latitude')!;
        const lng = i.number('Longitude')!;
        if (!onGlobe(lat, lng))
          fail('positionRejected', 'Latitude/Longitude is not a position on the globe');
        const now = Date.now();
        const t = i.has('Timestamp') ? reportTime(i.string('Timestamp'), now, 'position') : now;
        const rules = await d.rules.rules(
          (await sims.sim(req.account.sid, req.params.Sid ?? '')).fleet_sid,
        );
        const outcome = await d.motion.report(req.account.sid, req.params.Sid ?? '', {
          t,
          lat,
          lng,
          speed: i.number('Speed') ?? null,
          heading: i.number('Heading') ?? null,
          rsrp: i.number('Rsrp') ?? null,
          mode: i.string('NetworkMode') ?? null,
          network: i.string('Network') ?? null,
          route: i.has('Route') ? parsePoints(i.string('Route'), 'Route') : undefined,
        });
        return { status: 200, body: outcomeJson(outcome, rules.poorRsrpDbm, rules.horizonS) };
      },
    },
    {
      method: 'GET',
      domain: 'coverage',
      path: '/v1/Networks/:Sid/Cells/:Cell',
      summary: 'Coverage of one H3 cell on a network',
      params: [thresholdParam],
      async handler(req) {
        const network = (await sims.network(req.account.sid, req.params.Sid ?? '')).sid;
        const cell = req.params.Cell ?? '';
        if (!isValidCell(cell)) fail('invalidParameter', 'Cell must be an H3 cell index');
        return {
          status: 200,
          body: cellJson(network, cell, req.input.number('Threshold') ?? DEFAULT_RULES.poorRsrpDbm),
        };
      },
    },
    {
      method: 'GET',
      domain: 'coverage',
      path: '/v1/Networks/:Sid/PathRisk',
      summary: 'Expected poor-coverage seconds along a path at a speed (the cells it crosses)',
      params: [
        { name: 'Path', type: 'string', required: true, max: 200_000 },
        { name: 'Speed', type: 'number', min: 0.1, max: 150 },
        thresholdParam,
      ],
      async handler(req) {
        const network = (await sims.network(req.account.sid, req.params.Sid ?? '')).sid;
        const points = parsePoints(req.input.string('Path'), 'Path');
        if (points.length < 2) fail('invalidParameter', 'Path needs at least two points');
        const threshold = req.input.number('Threshold') ?? DEFAULT_RULES.poorRsrpDbm;
        return {
          status: 200,
          body: pathRisk(service, network, points, req.input.number('Speed') ?? 10, threshold),
        };
      },
    },
    {
      method: 'GET',
      domain: 'coverage',
      path: '/v1/Networks/:Sid/Cells',
      summary: 'Coverage over an area (a bounding box), as JSON or a GeoJSON FeatureCollection',
      params: [
        { name: 'MinLatitude', type: 'number', min: -90, max: 90, required: true },
        { name: 'MaxLatitude', type: 'number', min: -90, max: 90, required: true },
        { name: 'MinLongitude', type: 'number', min: -180, max: 180, required: true },
        { name: 'MaxLongitude', type: 'number', min: -180, max: 180, required: true },
        { name: 'Format', type: 'enum', values: ['json', 'geojson'] },
        thresholdParam,
      ],
      async handler(req) {
        const network = (await sims.network(req.account.sid, req.params.Sid ?? '')).sid;
        const i = req.input;
        const [s, n, w, e] = [
          i.number('MinLatitude')!,
          i.number('MaxLatitude')!,
          i.number('MinLongitude')!,
          i.number('MaxLongitude')!,
        ];
        if (s >= n || w >= e) fail('invalidParameter', 'the box must have Min < Max');
        const threshold = i.number('Threshold') ?? DEFAULT_RULES.poorRsrpDbm;
        const cells = map.cellIds(network).filter((c) => {
          const p = cellCentre(c);
          return p.lat >= s && p.lat <= n && p.lng >= w && p.lng <= e;
        });
        if (cells.length > 50_000)
          fail('invalidParameter', 'the box holds more than 50,000 cells: ask a smaller one');
        const items = cells.map((c) => cellJson(network, c, threshold));
        if (i.string('Format') === 'geojson')
          return {
            status: 200,
            contentType: 'application/geo+json',
            body: {
              type: 'FeatureCollection',
              features: items.map((it) => ({
                type: 'Feature',
                geometry: { type: 'Polygon', coordinates: [cellRing(it.cell)] },
                properties: it,
              })),
            },
          };
        return {
          status: 200,
          body: { network_sid: network, threshold_dbm: threshold, cells: items },
        };
      },
    },
    {
      method: 'POST',
      domain: 'coverage',
      path: '/v1/Networks/:Sid/Coverage',
      summary: 'Import provider coverage data: a GeoJSON FeatureCollection, or {"csv": "…"}',
      rawBody: true,
      async handler(req) {
        const network = (await sims.network(req.account.sid, req.params.Sid ?? '')).sid;
        const body = json(req) as { type?: string; csv?: unknown };
        let samples;
        let bad = 0;
        try {
          if (typeof body.csv === 'string') {
            const lines = body.csv.split(/\r?\n/);
            const cols = csvColumns(lines[0] ?? '');
            samples = [];
            for (const line of lines.slice(1)) {
              if (line.trim() === '') continue;
              const s = csvSamples(line, cols, (a, b) => map.cellOf(a, b));
              if (s.length === 0) bad++;
              samples.push(...s);
            }
          } else {
            const g = geojsonSamples(body, map.resolution, (a, b) => map.cellOf(a, b));
            samples = g.samples;
            bad = g.bad;
          }
        } catch (err) {
          if (err instanceof TwilioError) throw err;
          return fail('importRejected', (err as Error).message);
        }
        service.importSamples(network, samples, Date.now());
        return {
          status: 202,
          body: {
            network_sid: network,
            cells_updated: new Set(samples.map((s) => s.cell)).size,
            samples: samples.length,
            rejected: bad,
          },
        };
      },
    },
    {
      method: 'GET',
      domain: 'coverage',
      path: '/v1/Fleets/:Sid/Rules',
      summary: "A fleet's coverage steering rules",
      async handler(req) {
        const fleet = await sims.fleet(req.account.sid, req.params.Sid ?? '');
        return { status: 200, body: rulesJson(fleet.sid, await d.rules.rules(fleet.sid)) };
      },
    },
    {
      method: 'POST',
      domain: 'coverage',
      path: '/v1/Fleets/:Sid/Rules',
      summary: "Update a fleet's coverage steering rules",
      params: [
        { name: 'PoorRsrpDbm', type: 'number', min: -156, max: -31 },
        { name: 'PoorOn3g', type: 'bool' },
        { name: 'HorizonSeconds', type: 'int', min: 5, max: 600 },
        { name: 'PriorityPorts', type: 'list' },
        { name: 'Prioritise', type: 'bool' },
        { name: 'HoldBulk', type: 'bool' },
        { name: 'SwitchNetworks', type: 'bool' },
        { name: 'MinDwellSeconds', type: 'int', min: 0, max: 86_400 },
        { name: 'SwitchMargin', type: 'number', min: 1, max: 100 },
        { name: 'CallbackUrl', type: 'url' },
        { name: 'CommandsPerSecond', type: 'int', min: 1, max: 1000 },
      ],
      async handler(req) {
        const fleet = await sims.fleet(req.account.sid, req.params.Sid ?? '');
        const i = req.input;
        const change: { -readonly [K in keyof FleetRules]?: FleetRules[K] } = {};
        if (i.has('PoorRsrpDbm')) change.poorRsrpDbm = i.number('PoorRsrpDbm')!;
        if (i.has('PoorOn3g')) change.poorOn3g = i.bool('PoorOn3g')!;
        if (i.has('HorizonSeconds')) change.horizonS = i.int('HorizonSeconds')!;
        if (i.has('PriorityPorts')) {
          const ports = (i.list('PriorityPorts') ?? []).map(Number);
          if (ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535))
            fail('invalidParameter', 'PriorityPorts must be port numbers');
          change.priorityPorts = ports;
        }
        if (i.has('Prioritise')) change.prioritise = i.bool('Prioritise')!;
        if (i.has('HoldBulk')) change.holdBulk = i.bool('HoldBulk')!;
        if (i.has('SwitchNetworks')) change.switchNetworks = i.bool('SwitchNetworks')!;
        if (i.has('MinDwellSeconds')) change.minDwellS = i.int('MinDwellSeconds')!;
        if (i.has('SwitchMargin')) change.switchMargin = i.number('SwitchMargin')!;
        if (i.has('CallbackUrl')) change.callbackUrl = i.string('CallbackUrl')!;
        if (i.has('CommandsPerSecond')) change.commandsPerSecond = i.int('CommandsPerSecond')!;
        return {
          status: 200,
          body: rulesJson(fleet.sid, await d.rules.update(req.account.sid, fleet.sid, change)),
        };
      },
    },
    {
      method: 'POST',
      domain: 'coverage',
      path: '/v1/Sims/:Sid/RouteAdvice',
      summary: 'Rank candidate routes by expected seconds in poor coverage (JSON {routes: [...]})',
      rawBody: true,
      async handler(req) {
        const sim = await sims.sim(req.account.sid, req.params.Sid ?? '');
        const ctx = await sims.simContext(sim.sid);
        const body = json(req) as { routes?: unknown; speed?: unknown; network?: unknown };
        if (!Array.isArray(body.routes) || body.routes.length === 0 || body.routes.length > 20)
          fail('invalidParameter', 'routes must be a list of 1 to 20 routes');
        const network = typeof body.network === 'string' ? body.network : ctx?.networks[0];
        if (!network) fail('invalidParameter', 'the SIM has no network');
        await sims.network(req.account.sid, network);
        const rules = await d.rules.rules(sim.fleet_sid);
        const speed = typeof body.speed === 'number' && body.speed > 0 ? body.speed : 10;
        const ranked = (body.routes as { name?: unknown; points?: unknown }[]).map((r, k) => {
          const points = parsePoints(JSON.stringify(r.points ?? []), `routes[${k}].points`);
          if (points.length < 2) fail('invalidParameter', `routes[${k}] needs at least two points`);
          return {
            name: typeof r.name === 'string' ? r.name : `route ${k + 1}`,
            ...pathRisk(service, network, points, speed, rules.poorRsrpDbm),
          };
        });
        ranked.sort((a, b) => a.expected_poor_seconds - b.expected_poor_seconds);
        const best = ranked[0]!;
        const reasons = [
          `${best.name}: ${best.expected_poor_seconds} s expected in poor coverage, the fewest of ${ranked.length}`,
        ];
        d.motion.logDecision(req.account.sid, sim.sid, 'route-advice', reasons, {
          route: best.name,
        });
        return {
          status: 200,
          body: {
            sim_sid: sim.sid,
            network_sid: network,
            advised: best.name,
            routes: ranked,
            reasons,
          },
        };
      },
    },
  ];
}

/** Expected seconds in poor coverage along a path walked at `speed` m/s. */
function pathRisk(
  service: CoverageService,
  network: string,
  points: readonly LatLng[],
  speed: number,
  threshold: number,
) {
  const [first, ...rest] = points;
  let length = 0;
  for (let k = 1; k < points.length; k++) {
    const a = points[k - 1]!;
    const b = points[k]!;
    length += Math.hypot(
      (b.lat - a.lat) * 111_320,
      (b.lng - a.lng) * 111_320 * Math.cos((a.lat * Math.PI) / 180),
    );
  }
  const seconds = length / speed;
  const path = expectedPath(
    service.map,
    {
      device: '',
      network,
      t: 0,
      lat: first!.lat,
      lng: first!.lng,
      speed,
      heading: Number.NaN,
      rsrp: null,
      route: rest,
    },
    seconds,
  );
  const unknown = path.filter((c) => service.map.view(network, c, threshold).weight === 0).length;
  return {
    length_m: Math.round(length),
    seconds: Math.round(seconds),
    cells: path.length,
    cells_without_data: unknown,
    expected_poor_seconds: Math.round(
      poorSecondsAlong(service.map, network, path, seconds, threshold, false),
    ),
  };
}
