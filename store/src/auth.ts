import { timingSafeEqual } from 'node:crypto';
import type { AedesOptions, AuthenticateError, Client } from 'aedes';
import {
  accessRules,
  filterAllowed,
  OBSERVER,
  topicMatches,
  type Logger,
  type TopicRoot,
} from '@spectrum-grocers/shared';

/** username → password of the accounts the embedded broker accepts. */
export type Credentials = Readonly<Record<string, string>>;

const users = new WeakMap<Client, string>();

function refused(message: string): AuthenticateError {
  // CONNACK 4: bad user name or password [MQTT-3.2.2-3].
  return Object.assign(new Error(message), { returnCode: 4 });
}

function samePassword(expected: string, given: Buffer | undefined): boolean {
  if (!given) return false;
  const want = Buffer.from(expected);
  return want.length === given.length && timingSafeEqual(want, given);
}

/**
 * The embedded broker's authentication and authorisation: the same rules as Mosquitto's
 * generated acl_file (one user per service, an observer that reads everything). With
 * `anonymousRead`, a client without credentials is an observer: it can watch, not publish.
 */
export function createAuthorizer(
  root: TopicRoot,
  credentials: Credentials,
  opts: { anonymousRead: boolean; log: Logger },
): Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe'> {
  const rules = accessRules(root) as Readonly<Record<string, { write: readonly string[]; read: readonly string[] }>>;
  return {
    authenticate(client, username, password, done) {
      if (username === undefined) {
        if (!opts.anonymousRead) return done(refused('anonymous connections are not allowed'), false);
        users.set(client, OBSERVER);
        return done(null, true);
      }
      const expected = credentials[username];
      if (expected === undefined || !samePassword(expected, password)) {
        opts.log.warn({ clientId: client.id, username }, 'refused a connection: bad user name or password');
        return done(refused('bad user name or password'), false);
      }
      users.set(client, username);
      done(null, true);
    },
    authorizePublish(client, packet, done) {
      if (client === null) return done(null); // a will the broker publishes on its own
      const user = users.get(client) ?? '';
      if (rules[user]?.write.some((allowed) => topicMatches(allowed, packet.topic))) return done(null);
      opts.log.warn({ clientId: client.id, user, topic: packet.topic }, 'refused a publish');
      done(new Error(`${user || 'anonymous'} may not publish to ${packet.topic}`));
    },
    authorizeSubscribe(client, sub, done) {
      const user = users.get(client) ?? '';
      if (filterAllowed(rules[user]?.read ?? [], sub.topic)) return done(null, sub);
      opts.log.warn({ clientId: client.id, user, filter: sub.topic }, 'refused a subscription');
      done(null, null); // SUBACK 0x80 for this filter [MQTT-3.9.3]
    },
  };
}
