/**
 * The inventory example, unchanged, on Citus: its whole JSON API suite (sign-up, products, stock
 * in and out and the stock check's 400, sessions, the team) on a coordinator with schema-based
 * sharding, each business's schema a distributed schema on a worker.
 */
import { startExpress } from '../../examples/inventory/http/express.js';
import { inventoryApiSuite } from '../examples/inventory-api-suite.js';
import { describeCitus, useCitusDatabase } from './citus-database.js';

inventoryApiSuite('express', startExpress, { describe: describeCitus, database: useCitusDatabase });
