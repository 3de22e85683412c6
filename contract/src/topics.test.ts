import { describe, expect, it } from 'vitest';
import { isProcess, isService, SERVICES } from './services.js';
import {
  deadLetterTopic,
  downlinkTopics,
  EVENT_NAMES,
  EVENTS,
  eventsTravelling,
  eventTopic,
  eventTopics,
  parseTopic,
  publicationsOf,
  statusTopic,
  subscriptionsOf,
  uplinkFilters,
} from './topics.js';

const root = { chain: 'spectrum-grocers', store: 'fresh-frontier' };

describe('topic catalog', () => {
  it('builds the seed topics', () => {
    expect(eventTopic(root, 'customer-arrival')).toBe('spectrum-grocers/fresh-frontier/customer-arrival');
    expect(statusTopic(root, 'hello-helper')).toBe('spectrum-grocers/fresh-frontier/status/hello-helper');
    expect(deadLetterTopic(root, 'hello-helper')).toBe('spectrum-grocers/fresh-frontier/dead-letter/hello-helper');
  });

  it('wires the five services as the seed does', () => {
    expect(Object.fromEntries(SERVICES.map((s) => [s, [subscriptionsOf(s), publicationsOf(s)]]))).toEqual({
      'gateway-guardian': [[], ['customer-arrival']],
      'hello-helper': [['customer-arrival'], ['display-welcome']],
      'gateexit-guardian': [[], ['customer-departure']],
      'inventory-intel': [
        ['customer-departure', 'stock-delivered'],
        ['restock-alert', 'stock-delivered'],
      ],
      'fastlane-finale': [['customer-departure', 'price-change'], ['payment-due']],
    });
  });

  it('sends bills, alerts, statuses and dead letters up to the head office, and prices and deliveries down', () => {
    const store = { chain: 'spectrum-grocers', store: 'north' };
    expect(uplinkFilters(store)).toEqual([
      'spectrum-grocers/north/payment-due',
      'spectrum-grocers/north/restock-alert',
      'spectrum-grocers/north/status/+',
      'spectrum-grocers/north/dead-letter/+',
    ]);
    expect(downlinkTopics(store)).toEqual([
      'spectrum-grocers/north/stock-delivered',
      'spectrum-grocers/north/price-change',
      'spectrum-grocers/all-stores/price-change',
    ]);
    // Nothing goes both ways: a bridge forwarding a topic up and down would loop it.
    const up = eventsTravelling('up');
    expect(eventsTravelling('down').filter((e) => up.includes(e))).toEqual([]);
  });

  it('reads a chain-wide topic as its event for every store, and only for a chain-wide event', () => {
    expect(parseTopic(root, 'spectrum-grocers/all-stores/price-change')).toEqual({
      kind: 'event',
      event: 'price-change',
    });
    expect(parseTopic(root, 'spectrum-grocers/all-stores/payment-due')).toEqual({ kind: 'other' });
    expect(parseTopic(root, 'spectrum-grocers/all-stores/__proto__')).toEqual({ kind: 'other' });
    expect(eventTopics(root, 'price-change')).toEqual([
      'spectrum-grocers/fresh-frontier/price-change',
      'spectrum-grocers/all-stores/price-change',
    ]);
    expect(eventTopics(root, 'payment-due')).toEqual(['spectrum-grocers/fresh-frontier/payment-due']);
  });

  it('names only events of the catalog as causes, and no event as its own', () => {
    for (const event of EVENT_NAMES) {
      for (const cause of EVENTS[event].causedBy) {
        expect(EVENT_NAMES).toContain(cause);
        expect(cause).not.toBe(event);
      }
    }
  });

  const crTest = { chain: 'spectrum-grocers', store: 'cr-test' };
  it('tells events, statuses and dead letters of a store apart, and nothing else (parseTopic)', () => {
    expect(parseTopic(crTest, 'spectrum-grocers/cr-test/payment-due')).toEqual({ kind: 'event', event: 'payment-due' });
    expect(parseTopic(crTest, 'spectrum-grocers/cr-test/status/hello-helper')).toEqual({
      kind: 'status',
      service: 'hello-helper',
    });
    expect(parseTopic(crTest, 'spectrum-grocers/cr-test/dead-letter/fastlane-finale')).toEqual({
      kind: 'dead-letter',
      service: 'fastlane-finale',
    });
    expect(parseTopic(crTest, 'spectrum-grocers/other-store/payment-due')).toEqual({ kind: 'other' });
    expect(parseTopic(crTest, 'spectrum-grocers/cr-test/payment-due/extra')).toEqual({ kind: 'other' });
  });

  it('never takes a name of Object.prototype for an event', () => {
    expect(parseTopic(crTest, 'spectrum-grocers/cr-test/__proto__')).toEqual({ kind: 'other' });
    expect(parseTopic(crTest, 'spectrum-grocers/cr-test/constructor')).toEqual({ kind: 'other' });
  });

  it('knows its processes and services by name, and nothing else (isProcess, isService)', () => {
    expect(isProcess('control-room')).toBe(true);
    expect(isService('control-room')).toBe(false);
    expect(isService('fastlane-finale')).toBe(true);
    for (const name of ['__proto__', 'constructor', 'toString', '', undefined]) {
      expect(isProcess(name)).toBe(false);
      expect(isService(name)).toBe(false);
    }
  });
});
