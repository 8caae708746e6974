import { startFastify } from '../../examples/inventory/http/fastify.js';
import { inventoryApiSuite } from './inventory-api-suite.js';

inventoryApiSuite('fastify', startFastify);
