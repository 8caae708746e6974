import { useTestDatabase } from '../helpers/database.js';
import { registrySuite } from './registry-suite.js';

registrySuite('memory', useTestDatabase());
