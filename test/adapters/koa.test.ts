import { useTestDatabase } from '../helpers/database.js';
import { adapterSuite } from './adapter-suite.js';
import { koaHarness } from './koa-harness.js';

adapterSuite(koaHarness, useTestDatabase());
