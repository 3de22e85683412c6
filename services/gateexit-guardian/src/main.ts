import { runService } from '@spectrum-grocers/runtime';
import { exitGateService } from './exit-gate.js';

runService(exitGateService());
