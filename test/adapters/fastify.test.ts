import { useTestDatabase } from '../helpers/database.js';
import { adapterSuite } from './adapter-suite.js';
import { fastifyHarness } from './fastify-harness.js';

adapterSuite(fastifyHarness, useTestDatabase());
