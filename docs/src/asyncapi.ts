import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { z } from 'zod';
import {
  deadLetterTopic,
  DEFAULT_ROOT,
  EVENT_NAMES,
  EVENTS,
  eventTopic,
  schemas,
  SERVICES,
  UPLINK,
  statusTopic,
  type TopicRoot,
} from '@spectrum-grocers/contract';

/** A zod schema as the JSON Schema (draft-07) AsyncAPI messages carry: what a publisher may send. */
function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { target: 'draft-7', io: 'input' });
  return rest;
}

/** The channel addresses, with the topic root as AsyncAPI parameters. */
const PARAMETERS: TopicRoot = { chain: '{chain}', store: '{store}' };

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const MQTT_QOS1 = { mqtt: { qos: 1, retain: false, bindingVersion: '0.2.0' } };
const MQTT_RETAINED = { mqtt: { qos: 1, retain: true, bindingVersion: '0.2.0' } };

/**
 * The store's event catalog as an AsyncAPI 3.0 document, from the topic catalog: one channel
 * per event (and status, dead-letter), its payload schema, and who sends and receives it.
 * `pnpm asyncapi` writes it to docs/asyncapi.yaml.
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
  const ref = (channel: string, message: string) => ({
    channel: { $ref: `#/channels/${channel}` },
    messages: [{ $ref: `#/channels/${channel}/messages/${message}` }],
  });
  /** A channel carrying one message; returns what an operation on it refers to. */
  const addChannel = (
    channel: string,
    message: string,
    c: {
      name: string;
      address: string;
      summary: string;
      messageSummary: string;
      schema: z.ZodType;
      parameters: object;
    },
  ) => {
    messages[message] = {
      name: c.name,
      title: c.name,
      summary: c.messageSummary,
      contentType: 'application/json',
      payload: jsonSchema(c.schema),
    };
    channels[channel] = {
      address: c.address,
      title: c.name,
      summary: c.summary,
      parameters: c.parameters,
      messages: { [message]: { $ref: `#/components/messages/${message}` } },
    };
    return ref(channel, message);
  };
  const addOperation = (
    id: string,
    action: 'send' | 'receive',
    on: ReturnType<typeof ref>,
    summary: string,
    bindings: object,
  ) => {
    operations[id] = { action, ...on, summary, bindings };
  };

  for (const event of EVENT_NAMES) {
    const spec = EVENTS[event];
    const id = camel(event);
    const Id = `${id[0]!.toUpperCase()}${id.slice(1)}`;
    const on = addChannel(id, id, {
      name: event,
      address: eventTopic(PARAMETERS, event),
      summary: spec.summary,
      messageSummary: spec.summary,
      schema: spec.schema,
      parameters,
    });
    addOperation(
      `${camel(spec.publisher)}Sends${Id}`,
      'send',
      on,
      `${spec.publisher} publishes ${event} (QoS 1, through its outbox)`,
      MQTT_QOS1,
    );
    for (const subscriber of spec.subscribers) {
      addOperation(
        `${camel(subscriber)}Receives${Id}`,
        'receive',
        on,
        `${subscriber} consumes ${event} (QoS 1, persistent session, acknowledged after commit)`,
        MQTT_QOS1,
      );
    }
  }

  const perService = { ...parameters, service: { description: 'The service', enum: [...SERVICES] } };
  // The uplink (a store linked to HQ through it) says whether it is online too.
  const perProcess = { ...parameters, service: { description: 'The service', enum: [...SERVICES, UPLINK] } };
  const status = addChannel('status', 'serviceStatus', {
    name: 'status',
    address: statusTopic(PARAMETERS, '{service}'),
    summary: "A service's retained online/offline status",
    messageSummary: 'online on connect; offline on a graceful stop, and as the last will',
    schema: schemas.ServiceStatus,
    parameters: perProcess,
  });
  const deadLetter = addChannel('deadLetter', 'deadLetter', {
    name: 'dead-letter',
    address: deadLetterTopic(PARAMETERS, '{service}'),
    summary: 'Every message a service refused',
    messageSummary: 'A message a service refused: the reason, the topic and the raw payload',
    schema: schemas.DeadLetter,
    parameters: perService,
  });
  addOperation('servicesSendStatus', 'send', status, 'Every service, retained', MQTT_RETAINED);
  addOperation('servicesSendDeadLetter', 'send', deadLetter, 'Every consuming service, for what it refused', MQTT_QOS1);

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Fresh Frontier',
      version,
      description:
        'The events of an event-driven supermarket on MQTT. Topics are {chain}/{store}/{event}; payloads ' +
        'are JSON; the fields of the original suite keep their names, ours are optional on input. ' +
        'Generated from the topic catalog (contract/src/topics.ts): pnpm asyncapi.',
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
