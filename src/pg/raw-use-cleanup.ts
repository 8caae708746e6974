/**
 * A connection tenantPool used goes back to the pg.Pool it came from, which the app (and
 * tenantry's registry) may also use directly. Whoever takes it there without tenantPool must
 * not run as the last tenant's role, on its path, or with its session state.
 *
 * @module
 */
import pg from 'pg';
import type { ConnectionState, RawClient } from './connection-state.js';
import { prefixOf, SESSION_CLEANUP } from './scope-setting.js';
import { ScopedQuery } from './scoped-query.js';

const patched = new WeakSet<object>();

const CLEANUP_TEXT = prefixOf(SESSION_CLEANUP);

/**
 * Makes a pooled client clean itself before a query that does not come through tenantPool, when
 * tenantPool changed its session since: `SESSION_CLEANUP` (which also resets the path and the
 * role) goes first, in an exchange of its own. Queries through tenantPool pass as they are (they
 * set their own scope). Only the first query after tenantPool's use pays the exchange.
 *
 * @example
 * ```ts
 * import { connectionState, type RawClient } from './connection-state.js';
 * declare const raw: RawClient;
 * cleanBeforeRawUse(raw, connectionState(raw)); // once, when tenantPool first uses the client
 * await pool.query('select * from tenantry_tenants'); // runs as the login role, on its default path
 * ```
 */
export function cleanBeforeRawUse(client: RawClient, state: ConnectionState): void {
  if (patched.has(client)) return;
  patched.add(client);
  const query = client.query;
  client.query = function queryCleanly(this: RawClient, config: unknown, values?: unknown, callback?: unknown): unknown {
    if (config instanceof ScopedQuery) {
      state.scopedSinceRawUse = true;
    } else if (state.scopedSinceRawUse && config !== null && config !== undefined) {
      state.scopedSinceRawUse = false;
      // Its outcome reaches the query that follows: a connection that cannot run this cannot run that.
      query.call(this, new pg.Query(CLEANUP_TEXT), noop);
    }
    return query.call(this, config, values, callback);
  };
}

function noop(): void {}
