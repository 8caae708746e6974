import { startExpress } from '../../examples/inventory/http/express.js';
import { inventoryApiSuite } from './inventory-api-suite.js';

inventoryApiSuite('express', startExpress);
