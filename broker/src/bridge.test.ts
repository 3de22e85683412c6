import { describe, expect, it } from 'vitest';
import { downlinkTopics, uplinkFilters } from '@spectrum-grocers/contract';
import { mosquittoBridge } from './bridge.js';

const root = { chain: 'spectrum-grocers', store: 'north' };
const lines = (conf: string) => conf.split('\n').filter((l) => l && !l.startsWith('#'));
const topicLines = (conf: string) =>
  lines(conf)
    .filter((l) => l.startsWith('topic '))
    .map((l) => l.split(' ').slice(1));

describe("a store's bridge to the head office, from the topic catalog", () => {
  const conf = mosquittoBridge({ root, addresses: ['hq-1:1883', 'hq-2:1883', 'hq-3:1883'] });

  it('sends up what the catalog sends up and brings down what it sends down, all at QoS 1', () => {
    expect(topicLines(conf)).toEqual([
      ...uplinkFilters(root).map((t) => [t, 'out', '1']),
      ...downlinkTopics(root).map((t) => [t, 'in', '1']),
    ]);
  });

  it('carries no topic both ways, so nothing it forwards can come back to it', () => {
    const [out, inward] = (['out', 'in'] as const).map((d) =>
      topicLines(conf)
        .filter(([, dir]) => dir === d)
        .map(([t]) => t),
    );
    expect(out!.filter((t) => inward!.includes(t))).toEqual([]);
  });

  it('keeps a session at HQ across outages, as a plain MQTT 3.1.1 client any cluster accepts', () => {
    expect(lines(conf)).toEqual(
      expect.arrayContaining([
        'connection spectrum-grocers-north-uplink',
        'address hq-1:1883 hq-2:1883 hq-3:1883',
        'cleansession false',
        'try_private false',
        'bridge_protocol_version mqttv311',
        'remote_clientid spectrum-grocers-north-uplink',
        'notifications_local_only true',
      ]),
    );
    expect(conf).not.toMatch(/remote_(username|password)/);
  });

  it('signs in at HQ when given an account, and refuses to be made without an address', () => {
    const signed = mosquittoBridge({ root, addresses: ['hq:1883'], username: 'north', password: 's3cret' });
    expect(lines(signed)).toEqual(expect.arrayContaining(['remote_username north', 'remote_password s3cret']));
    expect(() => mosquittoBridge({ root, addresses: [] })).toThrow(/at least one address/);
  });
});
