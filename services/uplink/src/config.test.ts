import { describe, expect, it } from 'vitest';
import { AppError } from '@spectrum-grocers/contract';
import { hqBusConfig, loadUplinkConfig } from './config.js';

describe("the uplink's configuration", () => {
  it('keeps a persistent session on each side: {store}-uplink on the store broker, {chain}-{store}-uplink at HQ', () => {
    const config = loadUplinkConfig({ HQ_URL: 'mqtt://hq-1:4222,mqtt://hq-2:4222', STORE: 'north' });
    const hq = hqBusConfig(config);
    expect(config.mqtt.clientId).toBe('north-uplink');
    expect(hq.config.mqtt.clientId).toBe('spectrum-grocers-north-uplink');
    expect(hq.config.mqtt.url).toBe('mqtt://hq-1:4222');
    expect(hq.servers).toEqual(['mqtt://hq-1:4222', 'mqtt://hq-2:4222']);
    // Its own port in the store, beside the others'.
    expect(config.http.port).toBe(8087);
  });

  it('takes HQ account and client id from their own variables, never the store broker ones', () => {
    const config = loadUplinkConfig({
      HQ_URL: 'mqtts://hq:8883',
      MQTT_USERNAME: 'uplink',
      MQTT_PASSWORD: 'store-secret',
      MQTT_CLIENT_ID: 'store-side',
      HQ_USERNAME: 'north',
      HQ_PASSWORD: 'hq-secret',
      HQ_CLIENT_ID: 'hq-side',
    });
    const { mqtt } = hqBusConfig(config).config;
    expect([config.mqtt.username, config.mqtt.password, config.mqtt.clientId]).toEqual([
      'uplink',
      'store-secret',
      'store-side',
    ]);
    expect([mqtt.username, mqtt.password, mqtt.clientId]).toEqual(['north', 'hq-secret', 'hq-side']);
  });

  it('refuses to start without an HQ, or with a bad HQ_URL, naming the variable', () => {
    const refused = (env: Record<string, string>) => {
      try {
        loadUplinkConfig(env);
      } catch (err) {
        expect(err).toBeInstanceOf(AppError);
        expect((err as AppError).code).toBe('CONFIG_INVALID');
        return (err as AppError).message;
      }
      throw new Error('accepted');
    };
    expect(refused({})).toMatch(/^invalid configuration for uplink:\n {2}HQ_URL: /);
    expect(refused({ HQ_URL: 'http://hq:4222' })).toContain('HQ_URL: "http://hq:4222" is not a broker URL');
    expect(refused({ HQ_URL: 'mqtt://hq:4222,hq-2' })).toContain('HQ_URL: "hq-2" is not a broker URL');
  });
});
