import { startKoa } from '../../examples/inventory/http/koa.js';
import { inventoryApiSuite } from './inventory-api-suite.js';

inventoryApiSuite('koa', startKoa);
