import { describe, expect, it } from 'vitest';
import { metricsText } from '../../src/live/metrics.js';

describe('metricsText', () => {
  it('writes each metric with its HELP and TYPE, endpoints sorted by backend and version', () => {
    const text = metricsText({
      generation: 3,
      reloads: 3,
      runtimeUpdates: 2,
      failures: 1,
      lastSuccess: true,
      lastChangeMs: 1_700_000_000_123,
      endpoints: new Map([
        ['web/v2', 1],
        ['api/v1', 2],
      ]),
    });
    const values = text.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(values).toEqual([
      'meshgen_watch_generation 3',
      'meshgen_watch_reloads_total 3',
      'meshgen_watch_runtime_updates_total 2',
      'meshgen_watch_failures_total 1',
      'meshgen_watch_last_success 1',
      'meshgen_watch_last_change_timestamp_seconds 1700000000.123',
      'meshgen_watch_endpoints{backend="api",version="v1"} 2',
      'meshgen_watch_endpoints{backend="web",version="v2"} 1',
    ]);
    expect(text).toContain('# TYPE meshgen_watch_reloads_total counter\n');
  });
});
