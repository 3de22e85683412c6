import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { accessRules, filterAllowed, mosquittoAcl, topicMatches } from './acl.js';

const root = { chain: 'spectrum-grocers', store: 'fresh-frontier' };
const t = (rest: string) => `spectrum-grocers/fresh-frontier/${rest}`;

describe('access rules from the topic catalog', () => {
  const rules = accessRules(root);

  it('lets a gate publish only its own event, status and dead-letter, and read nothing', () => {
    expect(rules['gateexit-guardian']).toEqual({
      write: [t('customer-departure'), t('status/gateexit-guardian'), t('dead-letter/gateexit-guardian')],
      read: [],
    });
  });

  it('lets a consumer read only what it consumes', () => {
    // Its prices come down from the head office, for this store or for every store at once.
    expect(rules['fastlane-finale'].read).toEqual([
      t('customer-departure'),
      t('price-change'),
      'spectrum-grocers/all-stores/price-change',
    ]);
    expect(rules['fastlane-finale'].write).toContain(t('payment-due'));
    expect(rules['fastlane-finale'].write).not.toContain(t('restock-alert'));
    expect(rules['hello-helper'].read).toEqual([t('customer-arrival')]);
  });

  it('lets the uplink read what goes up to HQ and write what comes down, never a topic it reads', () => {
    expect(rules.uplink).toEqual({
      write: [t('stock-delivered'), t('price-change'), 'spectrum-grocers/all-stores/price-change', t('status/uplink')],
      read: [t('payment-due'), t('restock-alert'), t('status/+'), t('dead-letter/+')],
    });
    // Its own status is read back on purpose: it goes up with every other status.
    const down = rules.uplink.write.filter((w) => w !== t('status/uplink'));
    for (const w of down)
      expect(
        rules.uplink.read.some((f) => topicMatches(f, w)),
        w,
      ).toBe(false);
  });

  it('lets the observer read the whole chain and write nothing', () => {
    expect(rules.observer).toEqual({ write: [], read: ['spectrum-grocers/#'] });
  });

  it('is what the committed broker/acl says (regenerate with `pnpm broker:acl`)', () => {
    expect(readFileSync(new URL('../acl', import.meta.url), 'utf8')).toBe(mosquittoAcl(root));
  });

  it('renders a Mosquitto acl_file', () => {
    const acl = mosquittoAcl(root);
    expect(acl).toContain(`user inventory-intel\ntopic write ${t('restock-alert')}\n`);
    expect(acl).toContain(`topic read ${t('customer-departure')}\n`);
    expect(acl).toContain('user observer\ntopic read spectrum-grocers/#\n');
  });
});

describe('topic matching', () => {
  it.each([
    ['a/b', 'a/b', true],
    ['a/+', 'a/b', true],
    ['a/+', 'a/b/c', false],
    ['a/#', 'a/b/c', true],
    ['a/#', 'a', true],
    ['#', 'x/y', true],
    ['a/b', 'a/c', false],
  ])('%s matches %s: %s', (filter, topic, expected) => expect(topicMatches(filter, topic)).toBe(expected));

  it.each([
    [[t('#')], t('customer-departure'), true],
    [[t('#')], t('+'), true],
    [[t('#')], 'spectrum-grocers/#', false],
    [[t('#')], '#', false],
    [[t('customer-departure')], t('customer-departure'), true],
    [[t('customer-departure')], t('+'), false],
    [[t('customer-departure')], t('#'), false],
    [['a/+/c'], 'a/b/c', true],
    [['a/+/c'], 'a/#', false],
  ])('allowed %j lets a subscription to %s: %s', (allowed, filter, expected) =>
    expect(filterAllowed(allowed, filter)).toBe(expected),
  );
});
