import { describe, expect, it } from 'vitest';
import { deadLetterTopic, eventTopic, publicationsOf, SERVICES, statusTopic, subscriptionsOf } from './topics.js';

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
      'inventory-intel': [['customer-departure'], ['restock-alert']],
      'fastlane-finale': [['customer-departure'], ['payment-due']],
    });
  });
});
