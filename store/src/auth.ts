import { timingSafeEqual } from 'node:crypto';
import type { AedesOptions, AuthenticateError, Client } from 'aedes';
import { OBSERVER, toAppError, type TopicRoot } from '@spectrum-grocers/contract';
import { type Logger } from '@spectrum-grocers/runtime';
import { accessRules, clientIdOwner, filterAllowed, topicMatches, type AccessRules } from '@spectrum-grocers/broker';

/** username → password of the accounts the embedded broker accepts. */
export type Credentials = Readonly<Record<string, string>>;

export type Authorizer = Pick<
  AedesOptions,
  'authenticate' | 'authorizePublish' | 'authorizeSubscribe' | 'authorizeForward'
> & {
  /** Whether this client may read what `filter` asks for (checked again when subscriptions are stored). */
  mayRead(client: Client, filter: string): boolean;
  /** The account a connected client signed in with (`anonymous` for none). */
  accountOf(client: Client): string | undefined;
};

/** Who a connected client is: an account, or `anonymous` (a read-only watcher). */
const users = new WeakMap<Client, string>();
const ANONYMOUS = 'anonymous';

/** A refused CONNECT: the CONNACK return code [MQTT-3.2.2-3] and the reason we log. */
interface Refusal {
  readonly returnCode: AuthenticateError['returnCode'];
  readonly reason: string;
}
const refusal = (returnCode: Refusal['returnCode'], reason: string): Refusal => ({ returnCode, reason });

function samePassword(expected: string, given: Buffer | undefined): boolean {
  if (!given) return false;
  const want = Buffer.from(expected);
  return want.length === given.length && timingSafeEqual(want, given);
}

/**
 * The embedded broker's authentication and authorisation: the same rules as Mosquitto's
 * generated acl_file (one user per service, read-only watchers). With `anonymousRead`, a client
 * without credentials may watch, not publish, and only with a clean session.
 *
 * Every name here comes from the network: lookups go through Maps (never an object's
 * prototype) and no hook throws into aedes, whose callbacks would take the process down.
 */
export function createAuthorizer(
  root: TopicRoot,
  credentials: Credentials,
  opts: { anonymousRead: boolean; log: Logger },
): Authorizer {
  const accounts = new Map(Object.entries(credentials));
  const rules = new Map<string, AccessRules>(Object.entries(accessRules(root)));
  rules.set(ANONYMOUS, rules.get(OBSERVER)!);
  const { log } = opts;

  /** The account this CONNECT may use, or why not. */
  function identify(client: Client, username: string | undefined, password: Buffer | undefined): string | Refusal {
    let user: string;
    if (username === undefined) {
      if (!opts.anonymousRead) return refusal(4, 'anonymous connections are not allowed');
      user = ANONYMOUS;
    } else {
      const expected = accounts.get(username);
      if (expected === undefined || !samePassword(expected, password)) {
        return refusal(4, 'bad user name or password');
      }
      user = username;
    }
    const owner = clientIdOwner(root, client.id);
    if (owner !== undefined && owner !== user) {
      return refusal(2, `client id ${client.id} belongs to ${owner}`);
    }
    // A session kept for a client without a name would be anyone's to fill and to take.
    if (user === ANONYMOUS && !client.clean) {
      return refusal(5, 'anonymous clients get no persistent session; connect with clean session');
    }
    return user;
  }

  /** `check` of this client's rules; false, logged, if it throws. */
  function allows(client: Client, what: string, check: (rules: AccessRules) => boolean): boolean {
    const found = rules.get(users.get(client) ?? ANONYMOUS);
    try {
      return found !== undefined && check(found);
    } catch (err) {
      log.error({ err: toAppError(err), clientId: client.id }, `could not check a ${what}; refused it`);
      return false;
    }
  }
  const mayRead = (client: Client, filter: string) =>
    allows(client, 'subscription', (r) => filterAllowed(r.read, filter));

  return {
    mayRead,
    accountOf: (client) => users.get(client),
    authenticate(client, username, password, done) {
      let outcome: string | Refusal;
      try {
        outcome = identify(client, username, password);
      } catch (err) {
        log.error({ err: toAppError(err), clientId: client.id }, 'could not check a connection; refused it');
        outcome = refusal(3, 'server unavailable');
      }
      if (typeof outcome !== 'string') {
        log.warn({ clientId: client.id, username, reason: outcome.reason }, 'refused a connection');
        const err: AuthenticateError = Object.assign(new Error(outcome.reason), { returnCode: outcome.returnCode });
        return done(err, false);
      }
      users.set(client, outcome);
      done(null, true);
    },
    authorizePublish(client, packet, done) {
      if (client === null) return done(null); // a will the broker publishes on its own
      if (allows(client, 'publish', (r) => r.write.some((w) => topicMatches(w, packet.topic)))) return done(null);
      const user = users.get(client) ?? ANONYMOUS;
      log.warn({ clientId: client.id, user, topic: packet.topic }, 'refused a publish');
      done(new Error(`${user} may not publish to ${packet.topic}`));
    },
    authorizeSubscribe(client, sub, done) {
      if (mayRead(client, sub.topic)) return done(null, sub);
      log.warn({ clientId: client.id, user: users.get(client), filter: sub.topic }, 'refused a subscription');
      done(null, null); // SUBACK 0x80 for this filter [MQTT-3.9.3]
    },
    // aedes keeps a persistent client's whole SUBSCRIBE, refused filters included, and queues
    // for them: nothing reaches a client that its rules do not let it read.
    authorizeForward(client, packet) {
      return allows(client, 'delivery', (r) => r.read.some((f) => topicMatches(f, packet.topic))) ? packet : null;
    },
  };
}
