import { gateService, loadProductCatalog, runService } from '@spectrum-grocers/runtime';
import { exitGate } from './exit-gate.js';

runService(gateService(exitGate(loadProductCatalog())));
