import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventTopic, storeFilter } from '@spectrum-grocers/contract';
import { connectBus, loadConfig } from '@spectrum-grocers/runtime';
import { makeCredentials, passwordVariable, type Account } from '@spectrum-grocers/broker';
import {
  collect,
  quietLogger,
  repoPath,
  skipWithoutMosquitto,
  startMosquitto,
  tempDir,
  waitUntil,
  type Mosquitto,
} from '@spectrum-grocers/testkit';

// The TLS listener of the production config, certificates from broker/make-dev-ca.sh, accounts
// and the generated ACL as in compose.
describe.skipIf(skipWithoutMosquitto)('Mosquitto over TLS (8883)', () => {
  const certs = tempDir('ff-certs-');
  const ca = join(certs.path, 'ca.crt');
  const { passwordFile, env } = makeCredentials({});
  const password = (a: Account) => env[passwordVariable(a)]!;
  const root = { chain: 'spectrum-grocers', store: 'fresh-frontier' };
  let broker: Mosquitto;
  const tlsUrl = (host = '127.0.0.1') => `mqtts://${host}:${broker.tlsPort}`;

  beforeAll(async () => {
    execFileSync('bash', [repoPath('broker/make-dev-ca.sh')], { env: { ...process.env, CERTS_DIR: certs.path } });
    chmodSync(certs.path, 0o755); // Mosquitto reads them after dropping to its own user
    broker = await startMosquitto({ auth: { passwordFile }, tlsCertsDir: certs.path });
  });
  afterAll(async () => {
    await broker?.dispose();
    certs.remove();
  });

  it('carries a departure from the gate to fastlane-finale over mqtts:// with the CA given', async () => {
    const config = loadConfig('fastlane-finale', {
      env: {
        MQTT_URL: tlsUrl('localhost'),
        MQTT_CA_FILE: ca,
        MQTT_USERNAME: 'fastlane-finale',
        MQTT_PASSWORD: password('fastlane-finale'),
        MQTT_CLIENT_ID: 'tls-fastlane',
      },
      dotenv: false,
    });
    const bus = connectBus(config, quietLogger());
    const seen: string[] = [];
    try {
      await bus.consume([eventTopic(root, 'customer-departure')], (batch) => {
        for (const d of batch) seen.push(d.payload.toString());
        return Promise.resolve();
      });
      const gate = await collect(tlsUrl(), 'unused/topic', {
        ca: [readFileSync(ca)],
        username: 'gateexit-guardian',
        password: password('gateexit-guardian'),
      });
      await gate.publish(eventTopic(root, 'customer-departure'), '{"over":"tls"}');
      await gate.close();
      await waitUntil(() => seen.length > 0, 'the departure over TLS');
      expect(seen).toEqual(['{"over":"tls"}']);
    } finally {
      await bus.close();
    }
  });

  it("refuses a client that does not trust the broker's CA", async () => {
    await expect(
      mqtt.connectAsync(tlsUrl(), { username: 'observer', password: password('observer'), reconnectPeriod: 0 }),
    ).rejects.toThrow(/self.signed|unable to verify|certificate/i);
  });

  it('applies the same accounts and ACL over TLS', async () => {
    const opts = { ca: [readFileSync(ca)], reconnectPeriod: 0 };
    await expect(mqtt.connectAsync(tlsUrl(), { ...opts, username: 'observer', password: 'wrong' })).rejects.toThrow(
      /Not authorized|Bad username or password/i,
    );
    const observer = await collect(tlsUrl(), storeFilter(root), {
      ...opts,
      username: 'observer',
      password: password('observer'),
    });
    const gate = await mqtt.connectAsync(tlsUrl(), {
      ...opts,
      username: 'gateway-guardian',
      password: password('gateway-guardian'),
    });
    try {
      await gate.publishAsync(eventTopic(root, 'payment-due'), '{"forged":true}', { qos: 1 });
      await gate.publishAsync(eventTopic(root, 'customer-arrival'), '{"real":true}', { qos: 1 });
      await observer.waitFor(eventTopic(root, 'customer-arrival'));
      expect(observer.on(eventTopic(root, 'payment-due'))).toHaveLength(0);
    } finally {
      await gate.endAsync(true);
      await observer.close();
    }
  });
});
