import { describe, expect, it } from 'vitest';
import { SERVICES } from '@spectrum-grocers/contract';
import { spawnService, tempDir } from '@spectrum-grocers/testkit';

describe('configuration at start', () => {
  it.each(SERVICES)('%s stops with exit code 1 naming every bad variable', async (service) => {
    const proc = spawnService(service, {
      MQTT_URL: 'http://broker:1883',
      LOG_LEVEL: 'loud',
      MQTT_KEEPALIVE_S: '-5',
      HTTP_PORT: '99999',
    });
    expect(await proc.exited).toBe(1);
    const out = proc.output();
    expect(out).toContain('[CONFIG_INVALID]');
    for (const name of ['MQTT_URL', 'LOG_LEVEL', 'MQTT_KEEPALIVE_S', 'HTTP_PORT']) expect(out).toContain(name);
  });

  it("checks the gates' own knobs too", async () => {
    const proc = spawnService('gateexit-guardian', {
      SCAN_INTERVAL_MIN_S: '30',
      SCAN_INTERVAL_MAX_S: '5',
      BASKET_MAX_ITEMS: '0',
    });
    expect(await proc.exited).toBe(1);
    expect(proc.output()).toMatch(/SCAN_INTERVAL_MIN_S: must not exceed SCAN_INTERVAL_MAX_S/);
    expect(proc.output()).toContain('BASKET_MAX_ITEMS');
  });

  // Regression: a consumer waiting to subscribe only watched for signals once started, so it
  // outlived a stop (and its launcher) while the broker was away.
  it.each(['fastlane-finale', 'gateexit-guardian'] as const)(
    '%s stops with exit code 0 on SIGTERM while still waiting for an unreachable broker',
    async (service) => {
      const data = tempDir();
      const proc = spawnService(service, { MQTT_URL: 'mqtt://127.0.0.1:1', HTTP_PORT: '0', DATA_DIR: data.path });
      try {
        await proc.waitForLog('broker connection down; reconnecting');
        const started = Date.now();
        expect(await proc.stop('SIGTERM')).toBe(0);
        expect(Date.now() - started).toBeLessThan(6000);
      } finally {
        data.remove();
      }
    },
  );
});
