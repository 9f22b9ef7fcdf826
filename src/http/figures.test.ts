import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RequestFigures } from './figures.js';

describe('request figures', () => {
  it('are scraped as a Prometheus counter and a cumulative histogram per route', async () => {
    const registry = new Registry();
    const figures = new RequestFigures(registry);
    const ok = figures.series('GET', '/a', 200);
    const missing = figures.series('GET', '/a', 404);
    ok.add(0.0005);
    ok.add(0.003);
    missing.add(0.003);
    missing.add(7);
    figures.series('POST', '/b', 201).add(0.02);

    const text = await registry.metrics();
    const lines = text.split('\n');
    expect(lines).toContain('# TYPE switchboard_http_requests_total counter');
    expect(lines).toContain(
      'switchboard_http_requests_total{method="GET",route="/a",status="200"} 2',
    );
    expect(lines).toContain(
      'switchboard_http_requests_total{method="GET",route="/a",status="404"} 2',
    );
    expect(lines).toContain('# TYPE switchboard_http_request_duration_seconds histogram');
    const bucket = (le: string, route = '/a', method = 'GET') =>
      lines.find((l) =>
        l.startsWith(
          `switchboard_http_request_duration_seconds_bucket{method="${method}",route="${route}",le="${le}"}`,
        ),
      );
    expect(bucket('0.001')).toMatch(/ 1$/);
    expect(bucket('0.0025')).toMatch(/ 1$/);
    expect(bucket('0.005')).toMatch(/ 3$/);
    expect(bucket('5')).toMatch(/ 3$/);
    expect(bucket('+Inf')).toMatch(/ 4$/);
    expect(bucket('0.025', '/b', 'POST')).toMatch(/ 1$/);
    expect(bucket('0.01', '/b', 'POST')).toMatch(/ 0$/);
    expect(lines).toContain(
      'switchboard_http_request_duration_seconds_count{method="GET",route="/a"} 4',
    );
    const sum = lines.find((l) =>
      l.startsWith('switchboard_http_request_duration_seconds_sum{method="GET",route="/a"}'),
    );
    expect(Number(sum?.split(' ')[1])).toBeCloseTo(7.0065, 6);
    // The JSON form prom-client's cluster aggregation reads works too.
    const json = await registry.getMetricsAsJSON();
    expect(json.map((m) => m.name)).toEqual([
      'switchboard_http_requests_total',
      'switchboard_http_request_duration_seconds',
    ]);
  });
});
