import { runHqService, type HqContext } from '@spectrum-grocers/hq';
import { createHeadOffice, type HeadOffice } from './head-office.js';
import { LEDGER_SCHEMA } from './ledger.js';
import { PRICES_SCHEMA } from './prices.js';

let office: HeadOffice | undefined;
const officeOf = (ctx: HqContext) => (office ??= createHeadOffice(ctx));

runHqService({
  service: 'head-office',
  schema: LEDGER_SCHEMA + PRICES_SCHEMA,
  consumes: (ctx) => officeOf(ctx).consumes,
  watches: (ctx) => officeOf(ctx).watches,
  http: (ctx) => officeOf(ctx).routes,
});
