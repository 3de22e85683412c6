import { runService } from '@spectrum-grocers/runtime';
import { inventorySpec } from './inventory.js';

runService(inventorySpec());
