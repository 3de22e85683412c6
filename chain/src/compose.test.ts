import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ROOT } from '@spectrum-grocers/contract';
import { bridgeName } from '@spectrum-grocers/broker';
import { COMPOSE_DIR, composeFiles, composeNatsConfig, composeStoreBridge } from './compose.js';

const repo = new URL('../../', import.meta.url);

describe("the head office's files for Docker Compose", () => {
  it('are what the committed chain/compose files say (regenerate with `pnpm chain:compose`)', () => {
    const files = composeFiles();
    for (const [path, text] of Object.entries(files))
      expect(readFileSync(new URL(path, repo), 'utf8'), path).toBe(text);
    // Nothing else there: a file left from an earlier shape would be mounted with the rest.
    const root = fileURLToPath(repo);
    const committed = readdirSync(join(root, COMPOSE_DIR), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => relative(root, join(e.parentPath, e.name)));
    expect(committed.sort()).toEqual(Object.keys(files).sort());
  });

  it('cluster three nodes by their compose names, each listening on all interfaces, MQTT at R3 with ack_wait 5s', () => {
    const conf = composeNatsConfig('nats-2');
    expect(conf.split('\n')).toEqual(
      expect.arrayContaining([
        'server_name: nats-2',
        'listen: 0.0.0.0:4222',
        'http: 0.0.0.0:8222',
        'jetstream { store_dir: "/data/jetstream" }',
        '  name: ff-hq',
        '  listen: 0.0.0.0:6222',
        '  routes: [nats-route://nats-1:6222, nats-route://nats-2:6222, nats-route://nats-3:6222]',
        'mqtt { listen: 0.0.0.0:1883, stream_replicas: 3, consumer_replicas: 3, ack_wait: "5s" }',
      ]),
    );
  });

  it("bridge the compose store, as a client of HQ's session named after it, to every node's MQTT listener", () => {
    const lines = composeStoreBridge().split('\n');
    expect(lines).toContain('address nats-1:1883 nats-2:1883 nats-3:1883');
    expect(lines).toContain(`remote_clientid ${bridgeName(DEFAULT_ROOT)}`);
  });
});
