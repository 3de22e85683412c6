import { runHealthcheck } from '@spectrum-grocers/shared';

await runHealthcheck(8086);
