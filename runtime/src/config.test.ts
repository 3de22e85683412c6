import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError } from '@spectrum-grocers/contract';
import { envBrokerUrls, loadConfig } from './config.js';

const load = (env: Record<string, string>, options?: z.ZodObject) =>
  loadConfig('fastlane-finale', { env, dotenv: false, ...(options ? { options } : {}) });

describe('loadConfig', () => {
  it('reads one broker or the nodes of a cluster, comma-separated, naming the variable and each bad URL', () => {
    const options = z.object({ HQ_URL: envBrokerUrls });
    expect(load({ HQ_URL: 'mqtt://hq:1883' }, options).options).toEqual({ HQ_URL: ['mqtt://hq:1883'] });
    expect(load({ HQ_URL: ' mqtt://a:1883, mqtts://b:8883 ,' }, options).options).toEqual({
      HQ_URL: ['mqtt://a:1883', 'mqtts://b:8883'],
    });
    expect(() => load({ HQ_URL: 'mqtt://a:1883,hq:1883,http://c' }, options)).toThrow(
      /HQ_URL: "hq:1883" is not a broker URL[^\n]*\n {2}HQ_URL: "http:\/\/c" is not a broker URL/,
    );
    expect(() => load({ HQ_URL: ' , ' }, options)).toThrow(/HQ_URL: must name a broker/);
    expect(() => load({}, options)).toThrow(/HQ_URL/);
  });

  it('defaults to the seed topic root and a local broker', () => {
    const c = load({});
    expect(c.topics).toEqual({ chain: 'spectrum-grocers', store: 'fresh-frontier' });
    expect(c.mqtt.url).toBe('mqtt://localhost:1883');
    expect(c.mqtt.explicit).toBe(false);
    expect(c.mqtt.clientId).toBe('fresh-frontier-fastlane-finale');
    expect(c.http.port).toBe(8085);
  });

  it("moves the store's broker, HTTP port and DATA_DIR by PORT_OFFSET, so a second store on one machine shares none of them", () => {
    const first = load({});
    const second = load({ PORT_OFFSET: '10' });
    expect([first.mqtt.port, first.http.port, first.dataDir, first.portOffset]).toEqual([1883, 8085, './data', 0]);
    expect(second.mqtt.url).toBe('mqtt://localhost:1893');
    expect([second.mqtt.port, second.http.port, second.dataDir]).toEqual([1893, 8095, './data/offset-10']);
    // What is set outright wins over the offset.
    const own = load({ PORT_OFFSET: '10', MQTT_PORT: '2000', HTTP_PORT: '9000', DATA_DIR: '/srv/store' });
    expect([own.mqtt.port, own.http.port, own.dataDir]).toEqual([2000, 9000, '/srv/store']);
    // A process outside the store's listens on any free port, whatever the offset.
    expect(loadConfig('bench', { env: { PORT_OFFSET: '10' }, dotenv: false }).http.port).toBe(0);
  });

  it('refuses a PORT_OFFSET whose ports would overlap another store’s or run past 65535, with the other problems', () => {
    for (const offset of ['5', '-10', '1e3', 'ten', '57450']) {
      expect(() => load({ PORT_OFFSET: offset, LOG_LEVEL: 'loud' }), offset).toThrow(
        /PORT_OFFSET: must be a multiple of 10 from 0 to 57440[\s\S]*LOG_LEVEL/,
      );
    }
    expect(load({ PORT_OFFSET: '57440' }).http.port).toBe(8085 + 57_440);
  });

  it("honours the original suite's BROKER_ADDRESS host", () => {
    const c = load({ BROKER_ADDRESS: 'message-mediator-broker', MQTT_PORT: '1884' });
    expect(c.mqtt.url).toBe('mqtt://message-mediator-broker:1884');
    expect(c.mqtt.explicit).toBe(true);
  });

  it('prefers MQTT_URL over BROKER_ADDRESS', () => {
    expect(load({ MQTT_URL: 'mqtts://broker:8883', BROKER_ADDRESS: 'other' }).mqtt.url).toBe('mqtts://broker:8883');
  });

  it('names every bad variable in one error', () => {
    let error: unknown;
    try {
      load(
        { MQTT_URL: 'http://nope', MQTT_PORT: 'abc', LOG_LEVEL: 'loud', CHAIN: 'a/b', SIMULATE: 'perhaps' },
        z.object({ SIMULATE: z.stringbool() }),
      );
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AppError);
    const e = error as AppError;
    expect(e.code).toBe('CONFIG_INVALID');
    for (const name of ['MQTT_URL', 'MQTT_PORT', 'LOG_LEVEL', 'CHAIN', 'SIMULATE']) expect(e.message).toContain(name);
  });

  it('refuses a CA file that does not exist, naming MQTT_CA_FILE', () => {
    expect(() => load({ MQTT_URL: 'mqtts://broker:8883', MQTT_CA_FILE: '/nowhere/ca.crt' })).toThrow(
      /MQTT_CA_FILE: no such file/,
    );
  });

  it('treats an empty variable as unset', () => {
    expect(load({ MQTT_URL: '', HTTP_PORT: '' }).mqtt.url).toBe('mqtt://localhost:1883');
  });

  it('refuses a reconnect floor above its ceiling', () => {
    expect(() => load({ MQTT_RECONNECT_MIN_MS: '5000', MQTT_RECONNECT_MAX_MS: '100' })).toThrow(
      /MQTT_RECONNECT_MIN_MS/,
    );
  });

  it('returns a frozen config', () => {
    const c = load({});
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.mqtt)).toBe(true);
  });
});

// Whatever the environment holds: a config or one typed refusal, never a throw of another kind.
describe('loadConfig, under arbitrary input', () => {
  const RUNS = { numRuns: 500 };

  it('loadConfig answers any environment with a config or one CONFIG_INVALID error', () => {
    const names = [
      'MQTT_URL',
      'MQTT_PORT',
      'LOG_LEVEL',
      'CHAIN',
      'STORE',
      'HTTP_PORT',
      'MQTT_KEEPALIVE_S',
      'MAX_PAYLOAD_BYTES',
    ];
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...names), fc.string({ maxLength: 20 })), (env) => {
        try {
          loadConfig('fastlane-finale', { env, dotenv: false });
        } catch (err) {
          expect(err).toBeInstanceOf(AppError);
          expect((err as AppError).code).toBe('CONFIG_INVALID');
        }
      }),
      RUNS,
    );
  });
});
