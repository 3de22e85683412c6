import { describe, expect, it } from 'vitest';
import { checkBuilt, prefixFor, serviceEnv, serviceMain } from './supervisor.js';

describe('store supervisor', () => {
  it('gives a service its own <SERVICE>_<VARIABLE> settings over the shared ones', () => {
    const env = serviceEnv(
      'hello-helper',
      { LOG_LEVEL: 'info', HELLO_HELPER_LOG_LEVEL: 'debug', GATEWAY_GUARDIAN_HTTP_PORT: '9000' },
      { MQTT_URL: 'mqtt://127.0.0.1:1883' },
    );
    expect(env).toMatchObject({ LOG_LEVEL: 'debug', MQTT_URL: 'mqtt://127.0.0.1:1883' });
    expect(env.HTTP_PORT).toBeUndefined();
  });

  it("keeps the embedded broker's account even when .env holds compose passwords", () => {
    const env = serviceEnv(
      'hello-helper',
      { HELLO_HELPER_MQTT_PASSWORD: 'from-compose-env' },
      {},
      { MQTT_USERNAME: 'hello-helper', MQTT_PASSWORD: 'made-at-start' },
    );
    expect(env.MQTT_PASSWORD).toBe('made-at-start');
  });

  it('refuses to start a service that is not built, naming its file and how to build it (it used to fail and restart for ever)', () => {
    expect(() => checkBuilt(['hello-helper', 'no-such-service'])).toThrow(
      `not built: ${serviceMain('no-such-service')}; build everything again with: npx -y pnpm@10 build --force`,
    );
  });

  it('pads prefixes so the log columns line up, coloured only on a terminal', () => {
    expect(prefixFor('hello-helper', 0, 17, false)).toBe('[hello-helper]      ');
    const ESC = String.fromCharCode(27);
    expect(prefixFor('hello-helper', 0, 17, true)).toBe(`${ESC}[36m[hello-helper]     ${ESC}[0m `);
  });
});
