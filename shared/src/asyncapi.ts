import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { z } from 'zod';
import { DeadLetter, ServiceStatus } from './schemas.js';
import { EVENT_NAMES, EVENTS, SERVICES, type TopicRoot } from './topics.js';

const DEFAULT_ROOT: TopicRoot = { chain: 'spectrum-grocers', store: 'fresh-frontier' };

/** A zod schema as the JSON Schema (draft-07) AsyncAPI messages carry: what a publisher may send. */
function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { target: 'draft-7', io: 'input' });
  return rest;
}

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const MQTT_QOS1 = { mqtt: { qos: 1, retain: false, bindingVersion: '0.2.0' } };
const MQTT_RETAINED = { mqtt: { qos: 1, retain: true, bindingVersion: '0.2.0' } };

/**
 * The store's event catalog as an AsyncAPI 3.0 document, from the topic catalog: one channel
 * per event (and status, dead-letter), its payload schema, and who sends and receives it.
 * `pnpm asyncapi` writes it to asyncapi.yaml.
 */
export function asyncApiDocument(root: TopicRoot = DEFAULT_ROOT): Record<string, unknown> {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  const parameters = {
    chain: { default: root.chain, description: 'The chain (CHAIN)' },
    store: { default: root.store, description: 'The store (STORE)' },
  };
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};

  for (const event of EVENT_NAMES) {
    const spec = EVENTS[event];
    const id = camel(event);
    messages[id] = {
      name: event,
      title: event,
      summary: spec.summary,
      contentType: 'application/json',
      payload: jsonSchema(spec.schema),
    };
    channels[id] = {
      address: `{chain}/{store}/${event}`,
      title: event,
      summary: spec.summary,
      parameters,
      messages: { [id]: { $ref: `#/components/messages/${id}` } },
    };
    const channel = { $ref: `#/channels/${id}` };
    const message = [{ $ref: `#/channels/${id}/messages/${id}` }];
    operations[`${camel(spec.publisher)}Sends${id[0]!.toUpperCase()}${id.slice(1)}`] = {
      action: 'send',
      channel,
      messages: message,
      summary: `${spec.publisher} publishes ${event} (QoS 1, through its outbox)`,
      bindings: MQTT_QOS1,
    };
    for (const subscriber of spec.subscribers) {
      operations[`${camel(subscriber)}Receives${id[0]!.toUpperCase()}${id.slice(1)}`] = {
        action: 'receive',
        channel,
        messages: message,
        summary: `${subscriber} consumes ${event} (QoS 1, persistent session, acknowledged after commit)`,
        bindings: MQTT_QOS1,
      };
    }
  }

  const service = { description: 'The service', enum: [...SERVICES] };
  messages.serviceStatus = {
    name: 'status',
    title: 'status',
    summary: 'online on connect; offline on a graceful stop, and as the last will',
    contentType: 'application/json',
    payload: jsonSchema(ServiceStatus),
  };
  channels.status = {
    address: '{chain}/{store}/status/{service}',
    title: 'status',
    summary: "A service's retained online/offline status",
    parameters: { ...parameters, service },
    messages: { serviceStatus: { $ref: '#/components/messages/serviceStatus' } },
  };
  messages.deadLetter = {
    name: 'dead-letter',
    title: 'dead-letter',
    summary: 'A message a service refused: the reason, the topic and the raw payload',
    contentType: 'application/json',
    payload: jsonSchema(DeadLetter),
  };
  channels.deadLetter = {
    address: '{chain}/{store}/dead-letter/{service}',
    title: 'dead-letter',
    summary: 'Every message a service refused',
    parameters: { ...parameters, service },
    messages: { deadLetter: { $ref: '#/components/messages/deadLetter' } },
  };
  operations.servicesSendStatus = {
    action: 'send',
    channel: { $ref: '#/channels/status' },
    messages: [{ $ref: '#/channels/status/messages/serviceStatus' }],
    summary: 'Every service, retained',
    bindings: MQTT_RETAINED,
  };
  operations.servicesSendDeadLetter = {
    action: 'send',
    channel: { $ref: '#/channels/deadLetter' },
    messages: [{ $ref: '#/channels/deadLetter/messages/deadLetter' }],
    summary: 'Every consuming service, for what it refused',
    bindings: MQTT_QOS1,
  };

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Fresh Frontier',
      version,
      description:
        'The events of an event-driven supermarket on MQTT. Topics are {chain}/{store}/{event}; payloads ' +
        'are JSON; the fields of the original suite keep their names, ours are optional on input. ' +
        'Generated from the topic catalog (shared/src/topics.ts): pnpm asyncapi.',
    },
    defaultContentType: 'application/json',
    servers: {
      embedded: { host: 'localhost:1883', protocol: 'mqtt', description: '`pnpm start`: the embedded broker' },
      compose: {
        host: 'message-mediator-broker:1883',
        protocol: 'mqtt',
        description: 'Docker Compose: Mosquitto, one account per service',
      },
      composeTls: {
        host: 'message-mediator-broker:8883',
        protocol: 'secure-mqtt',
        description: 'Docker Compose: Mosquitto over TLS',
      },
    },
    channels,
    operations,
    components: { messages },
  };
}

/** The document as asyncapi.yaml holds it. */
export function asyncApiYaml(root: TopicRoot = DEFAULT_ROOT): string {
  return `# Generated from the topic catalog by \`pnpm asyncapi\`; do not edit.\n${stringify(asyncApiDocument(root), { lineWidth: 0, aliasDuplicateObjects: false })}`;
}
