import { describe, expect, it } from 'vitest';
import {
  ACCOUNTS,
  HQ_DB_PASSWORD,
  makeCredentials,
  makeHqSecrets,
  mergeEnvFile,
  mosquittoPasswordLine,
  passwordVariable,
} from './credentials.js';

describe('broker credentials', () => {
  it('hashes as mosquitto_passwd does (PBKDF2-SHA512, 101 rounds)', () => {
    // Made with `mosquitto_passwd -b pw alice secret` (Mosquitto 2.0.11), then its salt reused.
    const line =
      'alice:$7$101$HKLKCy8fDWzw7GFJ$Rqj2E8y8LsxFeHGCEcuVrQe3cuEs4WTJka/glonZ1RrHruhEqQsLjkQpLV2TdzLlnLiQnOzOpNmYTCzUw5IzdQ==';
    expect(mosquittoPasswordLine('alice', 'secret', Buffer.from('HKLKCy8fDWzw7GFJ', 'base64'))).toBe(line);
  });

  it('makes an account per service plus the observer, each with its own password', () => {
    const { passwordFile, env } = makeCredentials({});
    expect(
      passwordFile
        .trim()
        .split('\n')
        .map((l) => l.split(':')[0]),
    ).toEqual([...ACCOUNTS]);
    expect(new Set(Object.values(env)).size).toBe(ACCOUNTS.length);
    expect(Object.keys(env)).toContain('GATEEXIT_GUARDIAN_MQTT_PASSWORD');
    expect(passwordVariable('observer')).toBe('OBSERVER_MQTT_PASSWORD');
  });

  it('keeps the passwords a .env already has, unless told to rotate', () => {
    const before = { HELLO_HELPER_MQTT_PASSWORD: 'kept' };
    expect(makeCredentials(before).env.HELLO_HELPER_MQTT_PASSWORD).toBe('kept');
    expect(makeCredentials(before, { rotate: true }).env.HELLO_HELPER_MQTT_PASSWORD).not.toBe('kept');
  });

  it("makes the head office's database password once and keeps it, since its volume keeps the first", () => {
    const made = makeHqSecrets({})[HQ_DB_PASSWORD];
    expect(made).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(makeHqSecrets({ [HQ_DB_PASSWORD]: 'kept' })).toEqual({ [HQ_DB_PASSWORD]: 'kept' });
  });

  it('rewrites only its own lines of a .env', () => {
    const merged = mergeEnvFile('# mine\nLOG_LEVEL=debug\nHELLO_HELPER_MQTT_PASSWORD=old\n', {
      HELLO_HELPER_MQTT_PASSWORD: 'new',
      OBSERVER_MQTT_PASSWORD: 'o',
    });
    expect(merged).toBe('# mine\nLOG_LEVEL=debug\nHELLO_HELPER_MQTT_PASSWORD=new\nOBSERVER_MQTT_PASSWORD=o\n');
    expect(mergeEnvFile('', { A: '1' })).toBe('A=1\n');
  });
});
