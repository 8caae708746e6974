import { useTestDatabase } from '../helpers/database.js';
import { adapterSuite } from './adapter-suite.js';
import { expressHarness } from './express-harness.js';

adapterSuite(expressHarness, useTestDatabase());
