/**
 * Typed errors. Every error tenantry throws on purpose is a {@link TenancyError}
 * with a stable `code` and the `httpStatus` an HTTP adapter answers with.
 *
 * @module
 */

const brand = Symbol.for('tenantry.error');

/** The stable codes of tenantry's errors. */
export type TenancyErrorCode =
  | 'TENANTRY_INVALID_TENANT_ID'
  | 'TENANTRY_INVALID_SCHEMA_NAME'
  | 'TENANTRY_INVALID_DOMAIN'
  | 'TENANTRY_INVALID_CONFIG'
  | 'TENANTRY_TENANT_NOT_FOUND'
  | 'TENANTRY_TENANT_EXISTS'
  | 'TENANTRY_TENANT_SUSPENDED'
  | 'TENANTRY_TENANT_FORBIDDEN'
  | 'TENANTRY_TENANT_REQUIRED'
  | 'TENANTRY_NO_TENANT'
  | 'TENANTRY_TENANT_MISMATCH'
  | 'TENANTRY_MIGRATION_FAILED'
  | 'TENANTRY_MIGRATION_LOCK_TIMEOUT'
  | 'TENANTRY_MIGRATION_CHECKSUM'
  | 'TENANTRY_REGISTRY_NOT_MIGRATED'
  | 'TENANTRY_DATABASE_UNAVAILABLE'
  | 'TENANTRY_TENANTS_FAILED'
  | 'TENANTRY_ROW_SECURITY_BYPASSED'
  | 'TENANTRY_BACKUP_ARCHIVE'
  | 'TENANTRY_BACKUP_MIGRATIONS'
  | 'TENANTRY_UNKNOWN_SERVER'
  | 'TENANTRY_TENANT_MOVING'
  | 'TENANTRY_SCHEMA_PLACED_TENANTS'
  | 'TENANTRY_SHARED_NAME_COLLISION';

/**
 * The base class of every error tenantry throws on purpose.
 *
 * @example
 * ```ts
 * try {
 *   await tenancy.run('nope', handler);
 * } catch (error) {
 *   if (isTenancyError(error)) res.status(error.httpStatus).json({ code: error.code });
 *   else throw error;
 * }
 * ```
 */
export class TenancyError extends Error {
  override name = 'TenancyError';
  /** A stable, machine-readable code, e.g. `TENANTRY_TENANT_NOT_FOUND`. */
  readonly code: TenancyErrorCode;
  /** The HTTP status an adapter answers with when this error ends a request. */
  readonly httpStatus: number;
  readonly [brand] = true;

  constructor(code: TenancyErrorCode, httpStatus: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.httpStatus = httpStatus;
  }
}

/**
 * Tells whether a value is a tenantry error, also one thrown by another installed
 * copy of the package or by its CommonJS build (it checks a global brand, not `instanceof`).
 *
 * @example
 * ```ts
 * if (isTenancyError(error) && error.code === 'TENANTRY_NO_TENANT') console.warn('called outside tenancy.run');
 * ```
 */
export function isTenancyError(value: unknown): value is TenancyError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[brand] === true &&
    typeof (value as { code?: unknown }).code === 'string'
  );
}

/**
 * A tenant id that breaks the id rules (DNS label: 1 to 63 of `a-z`, `0-9`, `-`,
 * no hyphen at either end). HTTP 400.
 *
 * @example
 * ```ts
 * assertTenantId('Acme!'); // throws InvalidTenantIdError: Invalid tenant id "Acme!": only lower-case letters a-z, digits 0-9 and "-" are allowed
 * ```
 */
export class InvalidTenantIdError extends TenancyError {
  override name = 'InvalidTenantIdError';
  /** Why the id was refused, in a few words. */
  readonly reason: string;
  constructor(received: unknown, reason: string) {
    super('TENANTRY_INVALID_TENANT_ID', 400, `Invalid tenant id ${describe(received)}: ${reason}`);
    this.reason = reason;
  }
}

/**
 * A schema name that is not safe to use (too long, reserved, or not a plain lower-case identifier).
 *
 * @example
 * ```ts
 * assertSchemaName('pg_catalog'); // throws InvalidSchemaNameError
 * ```
 */
export class InvalidSchemaNameError extends TenancyError {
  override name = 'InvalidSchemaNameError';
  readonly reason: string;
  constructor(received: unknown, reason: string) {
    super('TENANTRY_INVALID_SCHEMA_NAME', 500, `Invalid schema name ${describe(received)}: ${reason}`);
    this.reason = reason;
  }
}

/**
 * A domain that is not a valid host name (labels of `a-z`, `0-9`, `-`, at most 253 bytes). HTTP 400.
 *
 * @example
 * ```ts
 * await tenancy.registry.addDomain('acme', 'not a host'); // rejects with InvalidDomainError
 * ```
 */
export class InvalidDomainError extends TenancyError {
  override name = 'InvalidDomainError';
  readonly reason: string;
  constructor(received: unknown, reason: string) {
    super('TENANTRY_INVALID_DOMAIN', 400, `Invalid domain ${describe(received)}: ${reason}`);
    this.reason = reason;
  }
}

/**
 * A configuration value tenantry cannot work with.
 *
 * @example
 * ```ts
 * createTenancy({ registry: 'postgres' }); // throws InvalidConfigError: registry: 'postgres' needs createTenancy({ pool })
 * ```
 */
export class InvalidConfigError extends TenancyError {
  override name = 'InvalidConfigError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('TENANTRY_INVALID_CONFIG', 500, message, options);
  }
}

/**
 * No tenant with that id (or domain) is registered. HTTP 404.
 *
 * @example
 * ```ts
 * await tenancy.run('ghost', fn); // rejects with TenantNotFoundError
 * ```
 */
export class TenantNotFoundError extends TenancyError {
  override name = 'TenantNotFoundError';
  readonly tenantId: string;
  constructor(tenantId: string, what = 'tenant') {
    super('TENANTRY_TENANT_NOT_FOUND', 404, `No ${what} ${describe(tenantId)} is registered`);
    this.tenantId = tenantId;
  }
}

/**
 * A tenant (or a domain, or a schema) with that name already exists. HTTP 409.
 *
 * @example
 * ```ts
 * await tenancy.registry.create({ id: 'acme', name: 'Acme' });
 * await tenancy.registry.create({ id: 'acme', name: 'Acme' }); // rejects with TenantExistsError
 * ```
 */
export class TenantExistsError extends TenancyError {
  override name = 'TenantExistsError';
  readonly tenantId: string;
  constructor(tenantId: string, detail?: string, options?: { cause?: unknown }) {
    super(
      'TENANTRY_TENANT_EXISTS',
      409,
      `Tenant ${describe(tenantId)} already exists${detail ? ` (${detail})` : ''}`,
      options,
    );
    this.tenantId = tenantId;
  }
}

/**
 * The tenant is suspended: its data stays, its requests are refused. HTTP 403.
 *
 * @example
 * ```ts
 * await tenancy.registry.suspend('acme');
 * await tenancy.run('acme', fn); // rejects with TenantSuspendedError
 * ```
 */
export class TenantSuspendedError extends TenancyError {
  override name = 'TenantSuspendedError';
  readonly tenantId: string;
  constructor(tenantId: string) {
    super('TENANTRY_TENANT_SUSPENDED', 403, `Tenant ${describe(tenantId)} is suspended`);
    this.tenantId = tenantId;
  }
}

/**
 * A placement names no server of `createTenancy({ servers })`. HTTP 500: the registry or the
 * config is wrong, not the request.
 *
 * @example
 * ```ts
 * await tenancy.registry.create({ id: 'acme', placement: 'mars' }); // UnknownServerError: no server "mars" (servers: main, eu)
 * ```
 */
export class UnknownServerError extends TenancyError {
  override name = 'UnknownServerError';
  readonly server: string;
  constructor(server: string, known: readonly string[] = []) {
    const names = Array.isArray(known) ? known : [];
    super('TENANTRY_UNKNOWN_SERVER', 500, `No server ${describe(server)} in createTenancy({ servers })${names.length === 0 ? ': no servers are configured' : ` (servers: ${names.join(', ')})`}`);
    this.server = server;
  }
}

/**
 * The tenant is moving, to another server or between strategies: its writes are paused for the
 * move (`tenancy.move`).
 * HTTP 503; the adapters add a `Retry-After` header with {@link TenantMovingError.retryAfter}.
 *
 * @example
 * ```ts
 * try {
 *   await db.query('insert into products (name) values ($1)', ['Bolt']);
 * } catch (error) {
 *   if (error instanceof TenantMovingError) res.set('Retry-After', String(error.retryAfter)).status(503).end();
 * }
 * ```
 */
export class TenantMovingError extends TenancyError {
  override name = 'TenantMovingError';
  readonly tenantId: string;
  /** Seconds after which a retry should find the move done. */
  readonly retryAfter: number;
  constructor(tenantId: string, retryAfter: number = 5) {
    retryAfter = Number.isInteger(retryAfter) && retryAfter > 0 ? retryAfter : 5;
    super('TENANTRY_TENANT_MOVING', 503, `Tenant ${describe(tenantId)} is moving: its writes are paused, retry in ${retryAfter} s`);
    this.tenantId = tenantId;
    this.retryAfter = retryAfter;
  }
}

/**
 * The request named a tenant it may not use (an adapter's `authorize` hook said no). HTTP 403.
 *
 * @example
 * ```ts
 * import { tenancyMiddleware } from 'tenantry/express';
 * app.use(tenancyMiddleware(tenancy, { authorize: (_request, tenant, req) => req.user?.tenantId === tenant.id }));
 * ```
 */
export class TenantForbiddenError extends TenancyError {
  override name = 'TenantForbiddenError';
  readonly tenantId: string;
  constructor(tenantId: string) {
    super('TENANTRY_TENANT_FORBIDDEN', 403, `This request may not use tenant ${describe(tenantId)}`);
    this.tenantId = tenantId;
  }
}

/**
 * A request that needs a tenant named none (no subdomain, path prefix or header matched). HTTP 404.
 *
 * @example
 * ```ts
 * import { tenancyMiddleware } from 'tenantry/express';
 * app.use(tenancyMiddleware(tenancy)); // GET http://example.com/products → 404 TENANTRY_TENANT_REQUIRED
 * ```
 */
export class TenantRequiredError extends TenancyError {
  override name = 'TenantRequiredError';
  constructor() {
    super('TENANTRY_TENANT_REQUIRED', 404, 'This request names no tenant: use the tenant\'s own host, path prefix or header');
  }
}

/**
 * Tenant-scoped work was asked for outside any tenant context. tenantry fails closed:
 * it never falls back to the shared schema. HTTP 500 (a programming error, not bad input).
 *
 * @example
 * ```ts
 * tenancy.require(); // outside tenancy.run(): throws NoTenantError
 * ```
 */
export class NoTenantError extends TenancyError {
  override name = 'NoTenantError';
  constructor(what = 'This operation') {
    super(
      'TENANTRY_NO_TENANT',
      500,
      `${what} needs a tenant, and none is active: wrap the call in tenancy.run(tenant, fn), or use tenancy.runShared(fn) for shared work`,
    );
  }
}

/**
 * A pooled client checked out for one tenant was used while another tenant (or the shared
 * scope) is active. tenantry refuses rather than read across tenants. HTTP 500.
 *
 * @example
 * ```ts
 * const client = await tenancy.run('acme', () => db.connect());
 * await tenancy.run('globex', () => client.query('select 1')); // rejects with TenantMismatchError
 * ```
 */
export class TenantMismatchError extends TenancyError {
  override name = 'TenantMismatchError';
  constructor(checkedOutFor: string, activeNow: string) {
    super(
      'TENANTRY_TENANT_MISMATCH',
      500,
      `This client was checked out for ${checkedOutFor} and is used while ${activeNow} is active; check out a client in each tenant's own run`,
    );
  }
}

/**
 * A migration failed on a schema. Carries the tenant (undefined for shared migrations),
 * the migration's name and the database error as `cause`.
 *
 * @example
 * ```ts
 * const report = await tenancy.migrate.tenants();
 * for (const failure of report.failed) console.error(failure.tenantId, failure.migration, failure.cause);
 * ```
 */
export class MigrationFailedError extends TenancyError {
  override name = 'MigrationFailedError';
  readonly tenantId: string | undefined;
  readonly migration: string | undefined;
  constructor(tenantId: string | undefined, migration: string | undefined, options: { cause: unknown }) {
    const where = tenantId === undefined ? 'the shared schema' : `tenant ${describe(tenantId)}`;
    const which = migration === undefined ? 'Migrating' : `Migration ${describe(migration)}`;
    super(
      'TENANTRY_MIGRATION_FAILED',
      500,
      `${which} failed on ${where}: ${messageOf(options.cause)}`,
      options,
    );
    this.tenantId = tenantId;
    this.migration = migration;
  }
}

/**
 * A tenant's migration waited longer than `lock_timeout` for a lock, on every attempt of the
 * run: another session holds a lock on a table the migration alters (a long transaction, an
 * idle-in-transaction session). Its transaction was rolled back; the other tenants went on. HTTP 500.
 *
 * @example
 * ```ts
 * const report = await tenancy.migrate.tenants({ lockTimeout: 5_000, lockRetries: 2 });
 * for (const failure of report.failed) {
 *   if (failure instanceof MigrationLockTimeoutError) console.warn(`${failure.tenantId}: lock wait, ${failure.attempts} attempts`);
 * }
 * ```
 */
export class MigrationLockTimeoutError extends MigrationFailedError {
  override name = 'MigrationLockTimeoutError';
  override readonly code = 'TENANTRY_MIGRATION_LOCK_TIMEOUT';
  /** How many times the run tried this tenant. */
  readonly attempts: number;
  /** The `lock_timeout` of each attempt, in milliseconds. */
  readonly lockTimeoutMs: number;
  constructor(tenantId: string, migration: string | undefined, options: { cause: unknown; attempts: number; lockTimeoutMs: number }) {
    super(tenantId, migration, options);
    this.attempts = options.attempts;
    this.lockTimeoutMs = options.lockTimeoutMs;
    const which = migration === undefined ? 'Migrating' : `Migration ${describe(migration)}`;
    this.message =
      `${which} on tenant ${describe(tenantId)} waited longer than lock_timeout (${options.lockTimeoutMs} ms) for a lock, ${options.attempts} ` +
      `time${options.attempts === 1 ? '' : 's'}: another session holds a lock on its tables (a long or idle-in-transaction session; see pg_stat_activity); ` +
      'end it, then migrate again';
  }
}

/**
 * An already-applied migration was edited: its checksum no longer matches the one recorded
 * when it ran. Pass `allowChanged: true` to accept the edit.
 *
 * @example
 * ```ts
 * await tenancy.migrate.tenants({ allowChanged: true });
 * ```
 */
export class MigrationChecksumError extends TenancyError {
  override name = 'MigrationChecksumError';
  readonly migration: string;
  constructor(migration: string, schema: string) {
    super(
      'TENANTRY_MIGRATION_CHECKSUM',
      500,
      `Migration ${describe(migration)} was edited after it was applied to schema ${describe(schema)}; ` +
        'restore the original file and add a new migration, or pass allowChanged: true',
    );
    this.migration = migration;
  }
}

/**
 * The registry's tables are missing from the shared schema, or older than this version of
 * tenantry needs: `tenancy.migrate.shared()` (or `tenantry migrate --shared`) has not run on
 * this database. The PostgreSQL registry throws it from every method, so `registry.create`,
 * `tenancy.run(id)` and `migrate.tenants()` all say the same. HTTP 503.
 *
 * It also carries `status` and `statusCode` (503) and `expose` (true), the fields Express's,
 * Koa's and Fastify's own error handlers read, so a request that meets it gets a 503 whose
 * body (Fastify, Koa; Express outside production) says what to run.
 *
 * @example
 * ```ts
 * await tenancy.registry.create({ id: 'acme' });
 * // rejects with RegistryNotMigratedError: The tenant registry is not set up in schema "public":
 * // run tenancy.migrate.shared() (or tenantry migrate --shared) first
 * ```
 */
export class RegistryNotMigratedError extends TenancyError {
  override name = 'RegistryNotMigratedError';
  /** The schema that should hold the registry. */
  readonly sharedSchema: string;
  /** The built-in registry migrations not applied there (empty when unknown). */
  readonly missing: readonly string[];
  readonly status = 503;
  readonly statusCode = 503;
  readonly expose = true;
  constructor(sharedSchema: string, options: { cause?: unknown; missing?: readonly string[]; present?: boolean } = {}) {
    const missing = Object.freeze([...(options.missing ?? [])]);
    const problem =
      options.present === true
        ? `The tenant registry in schema ${describe(sharedSchema)} lacks migration ${missing.map((name) => describe(name)).join(', ')}`
        : `The tenant registry is not set up in schema ${describe(sharedSchema)}`;
    super(
      'TENANTRY_REGISTRY_NOT_MIGRATED',
      503,
      `${problem}: run tenancy.migrate.shared() (or tenantry migrate --shared) first`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.sharedSchema = sharedSchema;
    this.missing = missing;
  }
}

/**
 * PostgreSQL could not be reached, or refused the connection: `tenancy.check()` and
 * `tenancy.migrate.shared()` throw it with the driver's error as `cause` and a message that says
 * what to fix (most often: set `DATABASE_URL`). HTTP 503.
 *
 * @example
 * ```ts
 * await tenancy.check();
 * // rejects with DatabaseUnavailableError: Cannot connect to PostgreSQL (no PostgreSQL user name
 * // specified in startup packet): the pool has no connection settings; set DATABASE_URL …
 * ```
 */
export class DatabaseUnavailableError extends TenancyError {
  override name = 'DatabaseUnavailableError';
  constructor(message: string, options: { cause: unknown }) {
    super('TENANTRY_DATABASE_UNAVAILABLE', 503, message, options);
  }
}

/**
 * Under the row-level strategy the app connects as a role that row-level security does not
 * apply to (a superuser, or one with BYPASSRLS): every query would see every tenant's rows, so
 * `tenancy.check()` refuses to start. HTTP 500.
 *
 * @example
 * ```ts
 * await tenancy.check();
 * // rejects with RowSecurityBypassedError: The app connects as "postgres", a superuser: row-level
 * // security does not apply to it, so every tenant's rows would be visible …
 * ```
 */
export class RowSecurityBypassedError extends TenancyError {
  override name = 'RowSecurityBypassedError';
  constructor(message: string) {
    super('TENANTRY_ROW_SECURITY_BYPASSED', 500, message);
  }
}

/**
 * Shared migrations would change the tenant-scoped tables while some tenants of the row-level
 * tenancy keep copies of them in schemas of their own (`tenancy.move(id, { strategy: 'schema'
 * })`): the copies would not follow. Nothing was applied. Move those tenants back (`{ strategy:
 * 'rls' }`), migrate, and move them out again (docs/rls.md, "Moving between strategies"). HTTP 409.
 *
 * @example
 * ```ts
 * await tenancy.migrate.shared();
 * // rejects with SchemaPlacedTenantsError: Shared migrations 005_sku change tenant-scoped tables
 * // that tenants "bigco" keep in schemas of their own: …
 * ```
 */
export class SchemaPlacedTenantsError extends TenancyError {
  override name = 'SchemaPlacedTenantsError';
  /** The tenants that live in schemas of their own. */
  readonly tenantIds: readonly string[];
  /** The shared migrations that were not applied. */
  readonly migrations: readonly string[];
  constructor(tenantIds: readonly string[], migrations: readonly string[]) {
    const ids = Array.isArray(tenantIds) ? tenantIds : [];
    const names = Array.isArray(migrations) ? migrations : [];
    super(
      'TENANTRY_SCHEMA_PLACED_TENANTS',
      409,
      `Shared migrations ${names.join(', ')} change tenant-scoped tables that tenants ${ids.map((id) => describe(id)).join(', ')} keep in schemas of their own: ` +
        "nothing was applied; move them back with tenancy.move(id, { strategy: 'rls' }) (tenantry tenants move ID --strategy rls), migrate, then move them out again",
    );
    this.tenantIds = Object.freeze([...ids]);
    this.migrations = Object.freeze([...names]);
  }
}

/**
 * A tenant move was refused: the tenant's schema has tables (or functions) whose names the
 * shared schema has too. While a tenant moves, a query that reaches the server where its schema
 * is gone (in the moment between the fence and the registry's switch, or from a process that has
 * not heard of the move) resolves unqualified names in the shared schema next, so it would read
 * the shared table of the same name. Nothing was changed. HTTP 409.
 *
 * @example
 * ```ts
 * await tenancy.move('acme', 'eu');
 * // rejects with SharedNameCollisionError: Tenant "acme" was not moved: its schema "tenant_acme"
 * // and the shared schema "public" both have users: …
 * ```
 */
export class SharedNameCollisionError extends TenancyError {
  override name = 'SharedNameCollisionError';
  readonly tenantId: string;
  /** The names both schemas have: relations as they are, functions followed by `()`. */
  readonly names: readonly string[];
  constructor(tenantId: string, schema: string, sharedSchema: string, names: readonly string[]) {
    const list = Array.isArray(names) ? names : [];
    super(
      'TENANTRY_SHARED_NAME_COLLISION',
      409,
      `Tenant ${describe(tenantId)} was not moved: its schema ${describe(schema)} and the shared schema ${describe(sharedSchema)} both have ${list.join(', ')}: ` +
        'a query that reached the tenant while its schema was gone from a server would read the shared ones; rename them apart (docs/scaling.md), then move it',
    );
    this.tenantId = tenantId;
    this.names = Object.freeze([...list]);
  }
}

/**
 * Some tenants of a `forEachTenant` run failed (`report.throwIfFailed()`). Like an
 * AggregateError: `errors` holds each tenant's error, `failures` pairs them with their tenants,
 * and the message names the first few. HTTP 500.
 *
 * @example
 * ```ts
 * const report = await tenancy.forEachTenant(() => db.query('refresh materialized view totals'));
 * report.throwIfFailed(); // TenantsFailedError: 2 tenants failed: acme (…), globex (…)
 * ```
 */
export class TenantsFailedError extends TenancyError {
  override name = 'TenantsFailedError';
  /** Each failed tenant with its error. */
  readonly failures: readonly { readonly tenant: { readonly id: string }; readonly error: unknown }[];
  /** The errors alone, as AggregateError names them. */
  readonly errors: readonly unknown[];

  constructor(failures: readonly { readonly tenant: { readonly id: string }; readonly error: unknown }[]) {
    const list = Array.isArray(failures) ? failures : [];
    const named = list.slice(0, 3).map(({ tenant, error }) => `${tenant.id} (${messageOf(error)})`);
    const more = list.length > named.length ? `, and ${list.length - named.length} more` : '';
    super('TENANTRY_TENANTS_FAILED', 500, `${list.length} ${list.length === 1 ? 'tenant' : 'tenants'} failed: ${named.join(', ')}${more}`);
    this.failures = list;
    this.errors = list.map(({ error }) => error);
  }
}

/**
 * A backup archive that cannot be restored: not a tenantry archive, a format this version does
 * not read, truncated, or corrupted (a checksum or a row count differs, rows that do not load).
 * The restore rolled back: nothing of the tenant is left. HTTP 422.
 *
 * @example
 * ```ts
 * import { createReadStream } from 'node:fs';
 * await tenancy.restore(createReadStream('acme.tenantry.gz'), { id: 'acme' });
 * // rejects with BackupArchiveError: The backup archive is truncated: …
 * ```
 */
export class BackupArchiveError extends TenancyError {
  override name = 'BackupArchiveError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('TENANTRY_BACKUP_ARCHIVE', 422, message, options);
  }
}

/**
 * A backup archive whose tenant migrations this app does not have (`problem: 'unknown'`), or has
 * with another checksum (`'changed'`): restoring it would build the tenant's schema from other
 * migrations than the ones its rows were written under. Pass `allowUnknown` or `allowChanged` to
 * `tenancy.restore` to restore it anyway. HTTP 409.
 *
 * @example
 * ```ts
 * import { createReadStream } from 'node:fs';
 * await tenancy.restore(createReadStream('acme.tenantry.gz'), { allowChanged: true });
 * ```
 */
export class BackupMigrationsError extends TenancyError {
  override name = 'BackupMigrationsError';
  /** The first migration that differs. */
  readonly migration: string;
  readonly problem: 'unknown' | 'changed';
  constructor(migration: string, problem: 'unknown' | 'changed') {
    super(
      'TENANTRY_BACKUP_MIGRATIONS',
      409,
      problem === 'unknown'
        ? `The backup was taken after tenant migration ${describe(migration)}, which this app does not have; add it back, or pass allowUnknown: true (--allow-unknown)`
        : `Tenant migration ${describe(migration)} of the backup has another checksum than this app's (it was edited); pass allowChanged: true (--allow-changed) to restore anyway`,
    );
    this.migration = migration;
    this.problem = problem;
  }
}

/**
 * Shows a received value in an error message, shortened so a huge input cannot flood logs.
 * It never throws, also for values that cannot be turned into a string (`Object.create(null)`,
 * a throwing `toString`), so validation always ends in the typed error.
 */
export function describe(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value.slice(0, 100)) : `(${typeof value}) ${show(value)}`;
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function show(value: unknown): string {
  try {
    return String(value);
  } catch {
    try {
      return Object.prototype.toString.call(value);
    } catch {
      return '[unprintable]';
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
