import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  skipWithoutMosquitto,
  spawnService,
  startMosquitto,
  tempDir,
  waitUntil,
  type Mosquitto,
  type ServiceProcess,
} from '@spectrum-grocers/testkit';

describe.skipIf(skipWithoutMosquitto)('two processes with one client id', () => {
  let broker: Mosquitto;
  const data = [tempDir(), tempDir()];
  const procs: ServiceProcess[] = [];

  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    await broker?.dispose();
    for (const d of data) d.remove();
  });

  it('are detected and logged, and one gives up instead of flapping forever', async () => {
    for (const d of data) {
      procs.push(
        spawnService('fastlane-finale', {
          MQTT_URL: broker.url,
          MQTT_CLIENT_ID: 'fresh-frontier-fastlane-finale',
          DATA_DIR: d.path,
          HTTP_HOST: '127.0.0.1',
          HTTP_PORT: '0',
          MQTT_RECONNECT_MIN_MS: '50',
          MQTT_RECONNECT_MAX_MS: '400',
        }),
      );
    }
    // Each connect takes the session over and kicks the other out, until one stops.
    const quitter = await waitUntil(
      () => procs.find((p) => p.child.exitCode !== null),
      'one process to give up',
      60_000,
    );
    expect(quitter.child.exitCode).toBe(1);
    expect(quitter.output()).toMatch(/another process is probably using client id fresh-frontier-fastlane-finale/);
    expect(quitter.output()).toContain('[CLIENT_ID_IN_USE]');
    // The other settles: connected, and no longer kicked out.
    const survivor = procs.find((p) => p !== quitter)!;
    if (survivor.child.exitCode === null) {
      const port = await survivor.httpPort();
      await waitUntil(
        async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200,
        'the survivor healthy',
      );
      const downs = () => survivor.output().split('broker connection down').length;
      const before = downs();
      await new Promise((r) => setTimeout(r, 2_000));
      expect(downs()).toBe(before);
    }
  }, 90_000);
});
