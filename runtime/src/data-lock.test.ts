import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '@spectrum-grocers/contract';
import {
  spawnService,
  startAedes,
  tempDir,
  TEST_SERVICE_ENV,
  waitUntil,
  type ServiceProcess,
} from '@spectrum-grocers/testkit';
import { lockDataDir, whileUnlocked } from './data-lock.js';

describe('the DATA_DIR lock', () => {
  const cleanup: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });
  const dir = () => {
    const d = tempDir();
    cleanup.push(d.remove);
    return d.path;
  };

  it('refuses a second holder of one name in one DATA_DIR, naming the first by its pid', () => {
    const data = dir();
    const first = lockDataDir(data, 'fastlane-finale');
    cleanup.push(first.release);
    const second = () => lockDataDir(data, 'fastlane-finale');
    expect(second).toThrow(AppError);
    expect(second).toThrow(
      `DATA_DIR ${data} is in use by another fastlane-finale (pid ${process.pid}); stop that one, or give this one a DATA_DIR of its own`,
    );
    // Another service on the same DATA_DIR is no conflict: pnpm start runs them all on one.
    lockDataDir(data, 'inventory-intel').release();
  });

  it('is free again once released', () => {
    const data = dir();
    lockDataDir(data, 'hello-helper').release();
    lockDataDir(data, 'hello-helper').release();
  });

  it('runs what is left to clean up only while nobody holds the lock', () => {
    const data = dir();
    const held = lockDataDir(data, 'store');
    let ran = 0;
    expect(whileUnlocked(data, 'store', () => ran++)).toBe(false);
    held.release();
    expect(whileUnlocked(data, 'store', () => ran++)).toBe(true);
    expect(ran).toBe(1);
    // ... and lets go of it afterwards.
    lockDataDir(data, 'store').release();
  });
});

describe('two copies of a service on one DATA_DIR', () => {
  const cleanup: Array<() => unknown> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  function start(env: Record<string, string>): ServiceProcess {
    const service = spawnService('fastlane-finale', { ...TEST_SERVICE_ENV, ...env });
    cleanup.push(() => service.stop('SIGKILL'));
    return service;
  }

  async function setup() {
    const broker = await startAedes();
    cleanup.push(() => broker.close());
    const data = tempDir();
    cleanup.push(data.remove);
    return { MQTT_URL: broker.url, DATA_DIR: data.path, STORE: `lock-${process.pid}-${Date.now()}` };
  }

  const healthz = async (service: ServiceProcess) =>
    (await fetch(`http://127.0.0.1:${await service.httpPort()}/healthz`)).status;

  it('refuse the second in one DATA_DIR_IN_USE line with exit 1 (both used to run, sharing one database and relaying each other’s outbox), and the first stays healthy', async () => {
    const env = await setup();
    const first = start(env);
    await waitUntil(async () => (await healthz(first)) === 200, 'the first to be healthy');
    const second = start(env);
    expect(await second.exited).toBe(1);
    expect(second.output().trim().split('\n')).toEqual([
      `fastlane-finale: [DATA_DIR_IN_USE] DATA_DIR ${env.DATA_DIR} is in use by another fastlane-finale (pid ${first.child.pid}); stop that one, or give this one a DATA_DIR of its own`,
    ]);
    expect(await healthz(first)).toBe(200);
    expect(first.child.exitCode).toBeNull();
  });

  it('let one start again at once on the DATA_DIR of one killed with SIGKILL: the lock dies with its holder', async () => {
    const env = await setup();
    const first = start(env);
    await waitUntil(async () => (await healthz(first)) === 200, 'the first to be healthy');
    first.child.kill('SIGKILL');
    await first.exited;
    const again = start(env);
    await waitUntil(async () => (await healthz(again)) === 200, 'the restarted one to be healthy');
    expect(again.output()).not.toContain('DATA_DIR_IN_USE');
  });
});
