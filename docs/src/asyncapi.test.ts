import { readFileSync } from 'node:fs';
import { DiagnosticSeverity, Parser } from '@asyncapi/parser';
import { describe, expect, it } from 'vitest';
import { EVENT_NAMES, EVENTS } from '@spectrum-grocers/contract';
import { asyncApiYaml } from './asyncapi.js';

const committed = readFileSync(new URL('../asyncapi.yaml', import.meta.url), 'utf8');

describe('the AsyncAPI document', () => {
  it('is the committed docs/asyncapi.yaml (regenerate with `pnpm asyncapi`)', () => {
    expect(committed).toBe(asyncApiYaml());
  });

  it('is valid AsyncAPI 3.0 and describes every event of the catalog, who sends and who receives it', async () => {
    const { document, diagnostics } = await new Parser().parse(committed);
    const errors = diagnostics.filter((d) => Number(d.severity) === Number(DiagnosticSeverity.Error));
    expect(errors.map((d) => `${d.path.join('.')}: ${d.message}`)).toEqual([]);
    expect(document).toBeDefined();
    expect(document!.version()).toBe('3.0.0');
    const addresses = document!
      .channels()
      .all()
      .map((c) => c.address());
    for (const event of EVENT_NAMES) expect(addresses).toContain(`{chain}/{store}/${event}`);
    expect(addresses).toContain('{chain}/{store}/status/{service}');
    expect(addresses).toContain('{chain}/{store}/dead-letter/{service}');
    const operations = document!.operations().all();
    for (const event of EVENT_NAMES) {
      const on = operations.filter((o) => o.channels().all()[0]?.address() === `{chain}/{store}/${event}`);
      expect(on.filter((o) => o.isSend())).toHaveLength(1);
      expect(on.filter((o) => o.isReceive())).toHaveLength(EVENTS[event].subscribers.length);
    }
  });

  it('carries the payload schemas: required fields and their types', async () => {
    const { document } = await new Parser().parse(committed);
    const message = document!.components().messages().get('paymentDue')!;
    const payload = message.payload()!;
    expect(payload.required()).toEqual(['timestamp', 'customer_id', 'amount']);
    expect(payload.properties()!.amount_cents!.type()).toBe('integer');
    expect(payload.properties()!.causation_id!.type()).toBe('string');
  });
});
