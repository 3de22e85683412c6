import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DockerComposeEnvironment,
  getContainerRuntimeClient,
  Wait,
  type StartedDockerComposeEnvironment,
} from 'testcontainers';
import { eventTopic, SERVICES, storeFilter } from '@spectrum-grocers/contract';
import { makeCredentials } from '@spectrum-grocers/broker';
import { collect, repoPath, waitUntil, type Collector } from '@spectrum-grocers/testkit';
import { postJson } from './harness.js';

// The real compose file in real containers. It needs a Docker engine (the GitHub workflow has
// one); where there is none, it is skipped and says why.
const engine = await getContainerRuntimeClient().then(
  () => ({ ok: true, why: '' }),
  (err: unknown) => ({ ok: false, why: err instanceof Error ? err.message : String(err) }),
);
if (!engine.ok) {
  process.stderr.write(`compose.containers.test: skipped, no container engine reachable (${engine.why})\n`);
}

describe.skipIf(!engine.ok)(`docker compose up, real containers${engine.ok ? '' : ` [skipped: ${engine.why}]`}`, () => {
  let env: StartedDockerComposeEnvironment;
  let watcher: Collector;
  let observerPassword = '';
  const root = { chain: 'spectrum-grocers', store: 'fresh-frontier' };

  beforeAll(async () => {
    // As `pnpm broker:setup` does: broker/passwd and broker/certs on disk, passwords in the environment.
    execFileSync('bash', [repoPath('broker/make-dev-ca.sh')]);
    const credentials = makeCredentials({});
    writeFileSync(repoPath('broker/passwd'), credentials.passwordFile, { mode: 0o644 });
    observerPassword = credentials.env.OBSERVER_MQTT_PASSWORD!;
    let compose = new DockerComposeEnvironment(repoPath('.'), 'docker-compose.yaml')
      .withBuild()
      .withEnvironment(credentials.env)
      .withStartupTimeout(600_000);
    for (const s of ['message-mediator-broker', ...SERVICES])
      compose = compose.withWaitStrategy(`${s}-1`, Wait.forHealthCheck());
    env = await compose.up();
    const broker = env.getContainer('message-mediator-broker-1');
    watcher = await collect(`mqtt://${broker.getHost()}:${broker.getMappedPort(1883)}`, storeFilter(root), {
      username: 'observer',
      password: observerPassword,
    });
  }, 900_000);
  afterAll(async () => {
    await watcher?.close();
    await env?.down({ removeVolumes: true });
  }, 120_000);

  it('bills a departure scanned at the exit gate', async () => {
    const gate = env.getContainer('gateexit-guardian-1');
    const scan = await postJson(`http://${gate.getHost()}:${gate.getMappedPort(8082)}/scans`, {
      customer_id: 1,
      product_ids: [1, 2],
    });
    expect(scan.status).toBe(202);
    const payment = await waitUntil(
      () => watcher.on(eventTopic(root, 'payment-due')).find((m) => m.json().departure_event_id === scan.body.event_id),
      'the payment',
      30_000,
    );
    expect(payment.json().amount_cents).toBeGreaterThan(0);
  });
});
