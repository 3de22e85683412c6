import {
  defaultClientId,
  PROCESSES,
  type ProcessName,
  chainFilter,
  CONTROL_ROOM,
  OBSERVER,
  type Watcher,
  deadLetterTopic,
  downlinkTopics,
  eventTopic,
  eventTopics,
  publicationsOf,
  SERVICES,
  statusTopic,
  subscriptionsOf,
  UPLINK,
  uplinkFilters,
  type ServiceName,
  type TopicRoot,
} from '@spectrum-grocers/contract';

export interface AccessRules {
  /** Topics this user may publish to (exact topics). */
  readonly write: readonly string[];
  /** Topic filters this user may subscribe to. */
  readonly read: readonly string[];
}

/**
 * Who may do what, from the topic catalog: a service publishes only its own events, its status
 * and its dead-letter, and subscribes only to what it consumes; the uplink reads what goes up to
 * HQ and writes what comes down (and its status); the observer reads everything.
 */
export function accessRules(root: TopicRoot): Readonly<Record<ServiceName | Watcher | typeof UPLINK, AccessRules>> {
  const rules = {} as Record<ServiceName, AccessRules>;
  for (const s of SERVICES) {
    rules[s] = {
      write: [...publicationsOf(s).map((e) => eventTopic(root, e)), statusTopic(root, s), deadLetterTopic(root, s)],
      read: subscriptionsOf(s).flatMap((e) => eventTopics(root, e)),
    };
  }
  // Watchers read the whole chain, as `mosquitto_sub -t 'spectrum-grocers/#'` asks.
  const watch: AccessRules = { write: [], read: [chainFilter(root)] };
  // Nothing it reads here is a topic it writes here: what it brings down never goes back up.
  const uplink: AccessRules = {
    write: [...downlinkTopics(root), statusTopic(root, UPLINK)],
    read: uplinkFilters(root),
  };
  return { ...rules, [UPLINK]: uplink, [CONTROL_ROOM]: watch, [OBSERVER]: watch };
}

/**
 * The account a client id belongs to on the embedded broker: `{store}-{account}` (the services'
 * default MQTT_CLIENT_ID) and `{store}-{account}-…` are that service's or the control room's
 * alone, so that no other client can take its persistent session [MQTT-3.1.4-2]. Other ids
 * belong to no one.
 */
export function clientIdOwner(root: TopicRoot, clientId: string): ProcessName | undefined {
  for (const account of PROCESSES) {
    const own = defaultClientId(root.store, account);
    if (clientId === own || clientId.startsWith(`${own}-`)) return account;
  }
  return undefined;
}

/** The Mosquitto `acl_file` for these rules. */
export function mosquittoAcl(root: TopicRoot): string {
  const lines = ['# Generated from the topic catalog (pnpm broker:acl); do not edit by hand.', ''];
  for (const [user, r] of Object.entries(accessRules(root))) {
    lines.push(`user ${user}`);
    for (const t of r.write) lines.push(`topic write ${t}`);
    for (const t of r.read) lines.push(`topic read ${t}`);
    lines.push('');
  }
  return lines.join('\n');
}

/** Whether an MQTT topic filter (with + and #) matches a topic, per [MQTT-4.7]. */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/**
 * Whether subscribing to `filter` asks for nothing beyond one of the `allowed` filters: each
 * level equal, or under an allowed `+` (not widened to `#`), or anything under an allowed `#`.
 */
export function filterAllowed(allowed: readonly string[], filter: string): boolean {
  return allowed.some((a) => narrower(a.split('/'), filter.split('/')));
}

function narrower(a: string[], f: string[]): boolean {
  for (let i = 0; i < f.length; i++) {
    if (a[i] === '#') return true;
    if (a[i] === undefined || f[i] === '#') return false;
    if (a[i] !== '+' && f[i] !== a[i]) return false;
  }
  return f.length === a.length;
}
