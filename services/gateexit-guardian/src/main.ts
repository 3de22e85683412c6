import { loadProductCatalog, runGate, runMain } from '@spectrum-grocers/shared';
import { exitGate } from './exit-gate.js';

runMain('gateexit-guardian', (onStopping) => runGate(exitGate(loadProductCatalog()), onStopping));
