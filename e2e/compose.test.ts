import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { eventTopic, HTTP_PORTS, PROCESSES, SERVICES, storeFilter, UPLINK } from '@spectrum-grocers/contract';
import { makeCredentials, passwordVariable } from '@spectrum-grocers/broker';
import { loadConfig, SERVICE_NODE_FLAGS } from '@spectrum-grocers/runtime';
import {
  collect,
  freePort,
  repoPath,
  skipWithoutMosquitto,
  spawnService,
  startMosquitto,
  tempDir,
  waitUntil,
  type Collector,
  type Mosquitto,
  type ServiceProcess,
} from '@spectrum-grocers/testkit';
import { interpolate, readCompose } from './compose-file.js';
import { getJson, postJson } from './harness.js';

interface Workflow {
  jobs: {
    images: {
      strategy: { matrix: { include: Array<{ service: string; http_port: number }> } };
      steps: Array<{ uses?: string; with?: Record<string, string> }>;
    };
  };
}

const compose = readCompose('docker-compose.yaml');
const workflow = parse(readFileSync(repoPath('.github/workflows/ci.yml'), 'utf8')) as Workflow;
const BROKER = 'message-mediator-broker';
const CONTROL_ROOM = 'control-room';
/** What compose runs beside Mosquitto: every process but the uplink (Mosquitto bridges to HQ itself). */
const COMPOSED = PROCESSES.filter((p) => p !== UPLINK);

/** The Dockerfile's stages, each its instructions: continuation lines joined, comments dropped. */
function dockerfileStages(text: string): string[][] {
  const stages: string[][] = [];
  for (const line of text.replaceAll('\\\n', ' ').split('\n')) {
    const instruction = line.trim().replace(/\s+/g, ' ');
    if (instruction === '' || instruction.startsWith('#')) continue;
    if (instruction.startsWith('FROM ')) stages.push([]);
    stages.at(-1)?.push(instruction);
  }
  return stages;
}
const [buildStage = [], imageStage = []] = dockerfileStages(readFileSync(repoPath('Dockerfile'), 'utf8'));
const HEALTHCHECK = /^HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 CMD (\[.*\])$/;
/** The image's healthcheck command (exec form, run in /app). */
const imageHealthcheck = JSON.parse(
  imageStage.map((i) => HEALTHCHECK.exec(i)?.[1]).find((cmd) => cmd !== undefined) ?? '[]',
) as string[];
// Every service deploys the runtime, so its healthcheck script is at the same place in each image.
const RUNTIME_IN_IMAGE = 'node_modules/@spectrum-grocers/runtime/';
/** The workspace file the image's healthcheck runs. */
const healthcheckScript = repoPath(`runtime/${(imageHealthcheck[1] ?? '').replace(RUNTIME_IN_IMAGE, '')}`);

describe('docker-compose.yaml', () => {
  it('runs Mosquitto and the five services on the seed network, and the control room in a profile', () => {
    expect(Object.keys(compose.services).sort()).toEqual([BROKER, ...SERVICES, CONTROL_ROOM].sort());
    expect(compose.services[CONTROL_ROOM]!.profiles).toEqual(['control-room']);
    for (const s of [BROKER, ...SERVICES]) expect(compose.services[s]!.profiles, s).toBeUndefined();
    // The control room reads with a read-only account of its own and publishes nothing.
    expect(compose.services[CONTROL_ROOM]!.environment).toMatchObject({
      MQTT_USERNAME: 'control-room',
      MQTT_PASSWORD: `\${${passwordVariable('control-room')}:?run pnpm broker:setup first}`,
    });
    expect(compose.networks['fresh-frontier-network']?.name).toBe('fresh-frontier-network');
    for (const svc of Object.values(compose.services)) expect(svc.networks).toEqual(['fresh-frontier-network']);
  });

  it('publishes plaintext MQTT to this host only, TLS to the network, and puts no password in a healthcheck', () => {
    const published = compose.services[BROKER]!.ports!;
    expect(published).toContain('8883:8883');
    for (const p of published.filter((x) => !x.endsWith(':8883'))) expect(p).toMatch(/^127\.0\.0\.1:/);
    for (const svc of Object.values(compose.services)) {
      expect(JSON.stringify(svc.healthcheck)).not.toMatch(/PASSWORD|\s-P\s/);
    }
  });

  it('gives every container a named volume, a healthcheck and a restart policy', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      const named = (svc.volumes ?? []).filter((v) => !v.startsWith('.')).map((v) => v.split(':')[0]!);
      expect(named.length, name).toBeGreaterThan(0);
      for (const v of named) expect(compose.volumes, name).toHaveProperty(v);
      expect(svc.healthcheck?.test.length, name).toBeGreaterThan(0);
      expect(svc.restart, name).toBe('unless-stopped');
    }
  });

  it('builds every process from the one Dockerfile, with its name and the HTTP port the contract gives it', () => {
    for (const s of COMPOSED) {
      const svc = compose.services[s]!;
      const port = String(HTTP_PORTS[s]);
      expect(svc.build, s).toEqual({ context: '.', dockerfile: 'Dockerfile', args: { SERVICE: s, HTTP_PORT: port } });
      expect(svc.image, s).toBe(`spectrum-grocers/${s}:0.1.0`);
      expect(svc.environment!.HTTP_PORT, s).toBe(port);
      for (const published of svc.ports ?? []) expect(published.split(':').at(-1), s).toBe(port);
    }
    // No stale copy of the recipe is left beside a service.
    for (const s of PROCESSES) expect(existsSync(repoPath(`services/${s}/Dockerfile`)), s).toBe(false);
  });

  it('builds in CI the image of every process from the same Dockerfile and arguments', () => {
    const images = workflow.jobs.images;
    // The store's processes first; the head office's follow (compose-chain.test.ts checks those).
    expect(images.strategy.matrix.include.slice(0, COMPOSED.length)).toEqual(
      COMPOSED.map((s) => ({ service: s, http_port: HTTP_PORTS[s] })),
    );
    const build = images.steps.find((step) => step.uses?.startsWith('docker/build-push-action@'));
    expect(build?.with).toMatchObject({ context: '.', file: 'Dockerfile' });
    expect(build?.with?.['build-args']?.trim().split('\n')).toEqual([
      'SERVICE=${{ matrix.service }}',
      'HTTP_PORT=${{ matrix.http_port }}',
    ]);
  });

  it('builds and deploys the named service, and runs it as before: non-root, /data its own, its port and healthcheck', () => {
    expect(buildStage[0]).toBe('FROM node:22-bookworm-slim AS build');
    expect(buildStage).toEqual(expect.arrayContaining(['ARG SERVICE', 'ARG HTTP_PORT']));
    const deploy = buildStage.find((i) => i.includes('deploy --prod'));
    expect(deploy).toContain('--filter "@spectrum-grocers/${SERVICE:?');
    expect(deploy).toContain('pnpm --filter "@spectrum-grocers/${SERVICE}" deploy --prod /out');
    // Regression: built along every dependency, the test-only cycle (testkit, chain, store) had
    // the store built before the runtime, and every image failed to build.
    expect(deploy).toContain('pnpm --filter-prod "@spectrum-grocers/${SERVICE}..." build');
    expect(imageStage).toEqual([
      'FROM node:22-bookworm-slim',
      'ARG HTTP_PORT',
      'ENV NODE_ENV=production DATA_DIR=/data LOG_FORMAT=json HTTP_PORT=${HTTP_PORT}',
      'WORKDIR /app',
      'COPY --from=build --chown=node:node /out ./',
      'RUN mkdir -p /data && chown node:node /data && chmod 700 /data',
      'USER node',
      'VOLUME ["/data"]',
      'EXPOSE ${HTTP_PORT}',
      expect.stringMatching(HEALTHCHECK),
      `CMD ${JSON.stringify(['node', ...SERVICE_NODE_FLAGS, 'dist/main.js']).replaceAll(',', ', ')}`,
    ]);
    // The healthcheck is the runtime's, which every service deploys as a dependency.
    expect(imageHealthcheck).toEqual(['node', `${RUNTIME_IN_IMAGE}dist/healthcheck.js`]);
    for (const s of COMPOSED) {
      const pkg = JSON.parse(readFileSync(repoPath(`services/${s}/package.json`), 'utf8')) as {
        dependencies?: Record<string, string>;
      };
      expect(pkg.dependencies?.['@spectrum-grocers/runtime'], s).toBe('workspace:*');
      expect(compose.services[s]!.healthcheck!.test, s).toEqual(['CMD', ...imageHealthcheck]);
    }
  });

  it('refuses to build an image whose HTTP_PORT is not the one the contract gives its service', () => {
    // The build's own check, run where the deployed service would run it (its dependencies resolve alike).
    const check = /^RUN cd \/out && node --input-type=module -e "(.*)"$/.exec(
      buildStage.find((i) => i.startsWith('RUN cd /out && node')) ?? '',
    )?.[1];
    expect(check).toContain('HTTP_PORTS');
    const run = (service: string, port: string) =>
      spawnSync(process.execPath, ['--input-type=module', '-e', check!], {
        cwd: repoPath(`services/${service}`),
        env: { SERVICE: service, HTTP_PORT: port },
      }).status;
    for (const s of COMPOSED) expect(run(s, String(HTTP_PORTS[s])), s).toBe(0);
    expect(run('hello-helper', String(HTTP_PORTS['gateway-guardian']))).toBe(1);
    expect(run('hello-helper', '')).toBe(1);
  });

  it('lets a consumer hold its whole window unacknowledged: max_inflight_messages is MAX_IN_FLIGHT at least', () => {
    const conf = readFileSync(repoPath('broker/mosquitto.conf'), 'utf8');
    const cap = Number(/^max_inflight_messages (\d+)$/m.exec(conf)?.[1]);
    const { maxInFlight } = loadConfig('fastlane-finale', { env: { STORE: 'inflight' }, dotenv: false });
    // 0 is no cap at all; anything below the window would cut every batch to it (Mosquitto ≥ 2.0.13).
    expect(cap === 0 || cap >= maxInFlight, `max_inflight_messages ${cap} < MAX_IN_FLIGHT ${maxInFlight}`).toBe(true);
  });

  it("mounts the project's Mosquitto config, accounts and ACL, and connects each service with its own account", () => {
    expect(compose.services[BROKER]!.volumes).toEqual(
      expect.arrayContaining([
        './broker/mosquitto.conf:/mosquitto/config/mosquitto.conf:ro',
        './broker/passwd:/mosquitto/config/passwd:ro',
        './broker/acl:/mosquitto/config/acl:ro',
        './broker/certs:/mosquitto/config/certs:ro',
        './broker/conf.d:/mosquitto/config/conf.d:ro',
      ]),
    );
    // The bridge pnpm broker:bridge writes is read from where the directory is mounted.
    const conf = readFileSync(repoPath('broker/mosquitto.conf'), 'utf8');
    expect(/^include_dir (\S+)$/m.exec(conf)?.[1]).toBe('/mosquitto/config/conf.d');
    for (const s of COMPOSED) {
      expect(compose.services[s]!.depends_on).toEqual({ [BROKER]: { condition: 'service_healthy' } });
      // Each service connects with the account of its name, its password from .env.
      expect(compose.services[s]!.environment).toMatchObject({
        MQTT_USERNAME: s,
        MQTT_PASSWORD: `\${${passwordVariable(s)}:?run pnpm broker:setup first}`,
      });
    }
  });
});

/**
 * Each service's built output with exactly the environment compose gives it (its passwords as
 * `pnpm broker:credentials` makes them), against Mosquitto with those accounts and the mounted
 * ACL. Three things differ because one host stands in for a network of containers: the broker's host name is
 * 127.0.0.1 (on a free port), DATA_DIR is a temp directory per service, and HTTP_PORT is 0
 * (the port bound is read from the service's log).
 */
describe.skipIf(skipWithoutMosquitto)('docker-compose.yaml environment, run as processes against Mosquitto', () => {
  let mosquitto: Mosquitto;
  let watcher: Collector;
  const data = tempDir('ff-compose-');
  const procs = {} as Record<string, ServiceProcess>;
  const ports = {} as Record<string, number>;
  const env = (s: string) => compose.services[s]!.environment!;
  const root = { chain: env('fastlane-finale').CHAIN!, store: env('fastlane-finale').STORE! };

  beforeAll(async () => {
    const mounted = (suffix: string) =>
      repoPath(
        compose.services[BROKER]!.volumes!.find((v) => v.endsWith(suffix))!
          .split(':')[0]!
          .replace(/^\.\//, ''),
      );
    const credentials = makeCredentials({});
    mosquitto = await startMosquitto({
      confPath: mounted('/mosquitto.conf:ro'),
      auth: { passwordFile: credentials.passwordFile, acl: readFileSync(mounted('/acl:ro'), 'utf8') },
    });
    watcher = await collect(mosquitto.url, storeFilter(root), {
      username: 'observer',
      password: credentials.env.OBSERVER_MQTT_PASSWORD!,
    });
    for (const s of COMPOSED) {
      const given = Object.fromEntries(
        Object.entries(env(s)).map(([k, v]) => [k, interpolate(String(v), credentials.env)]),
      );
      expect(given.MQTT_URL).toBe(`mqtt://${BROKER}:1883`);
      procs[s] = spawnService(s, {
        ...given,
        MQTT_URL: given.MQTT_URL!.replace(`//${BROKER}:1883`, `//127.0.0.1:${mosquitto.port}`),
        DATA_DIR: `${data.path}/${s}`,
        HTTP_PORT: '0',
      });
      ports[s] = await procs[s].httpPort();
    }
    await Promise.all(COMPOSED.map((s) => procs[s]!.waitForLog('connected to broker')));
  });
  afterAll(async () => {
    await Promise.all(COMPOSED.map(async (s) => void (await procs[s]?.stop('SIGTERM'))));
    await watcher?.close();
    await mosquitto?.dispose();
    data.remove();
  });

  it("passes every service's container healthcheck, run with the same environment", async () => {
    for (const s of COMPOSED) {
      const check = () =>
        new Promise<number | null>((resolve) => {
          // As the image runs it: `node <the runtime's script>`, with the compose environment.
          const child = spawn(process.execPath, [healthcheckScript], {
            env: { ...env(s), HTTP_PORT: String(ports[s]) },
          });
          child.once('exit', resolve);
        });
      await waitUntil(async () => (await check()) === 0, `${s} healthcheck to pass`);
    }
  });

  it("passes the broker's container healthcheck while Mosquitto answers, and fails it when nothing does", async () => {
    const [kind, command] = compose.services[BROKER]!.healthcheck!.test;
    expect(kind).toBe('CMD-SHELL');
    // Compose's $$ is the shell's $; the container's localhost:1883 is the test broker's port here.
    const run = (port: number) =>
      new Promise<number | null>((resolve) => {
        const sh = command!.replaceAll('$$', '$').replace('-h localhost', `-h 127.0.0.1 -p ${port}`);
        spawn('sh', ['-c', sh], { stdio: 'ignore' }).once('exit', resolve);
      });
    expect(await run(mosquitto.port)).toBe(0);
    expect(await run(await freePort())).not.toBe(0);
  });

  it('fails the healthcheck of a service that is not there', async () => {
    const child = spawn(process.execPath, [healthcheckScript], {
      env: { HTTP_PORT: String(await freePort()) },
    });
    expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(1);
  });

  it('welcomes, bills and restocks with the compose environment', async () => {
    const arrival = await postJson(`http://127.0.0.1:${ports['gateway-guardian']}/scans`, { customer_id: 2 });
    expect(arrival.status).toBe(202);
    const departure = await postJson(`http://127.0.0.1:${ports['gateexit-guardian']}/scans`, {
      customer_id: 2,
      product_ids: [1, 2],
    });
    expect(departure.status).toBe(202);
    await waitUntil(
      () => watcher.on(eventTopic(root, 'display-welcome')).find((m) => m.json().name === 'Alice'),
      'the welcome for Alice',
    );
    await waitUntil(
      () =>
        watcher
          .on(eventTopic(root, 'payment-due'))
          .find((m) => m.json().departure_event_id === departure.body.event_id),
      'the payment',
    );
    const stock = await getJson<Array<{ product_id: number }>>(`http://127.0.0.1:${ports['inventory-intel']}/stock`);
    expect(stock).toHaveLength(100);
    // The control room, reading as the observer, traces the departure to its payment.
    const trace = await waitUntil(async () => {
      const t = await getJson<{ effects: Array<{ event: string }> }>(
        `http://127.0.0.1:${ports[CONTROL_ROOM]}/api/trace?event_id=${departure.body.event_id as string}`,
      ).catch(() => undefined);
      return t && t.effects.length > 0 ? t : undefined;
    }, 'the departure in the control room');
    expect(trace.effects.map((e) => e.event)).toEqual(['payment-due']);
  });
});
