/**
 * tenantry's `node:diagnostics_channel` channels: what a log line, a span or a metric needs to
 * know about tenants, published only while someone subscribes (a channel with no subscriber
 * costs one property read). Nothing is sent anywhere.
 *
 * @example
 * ```ts
 * import diagnostics from 'node:diagnostics_channel';
 * import { channels } from 'tenantry';
 * diagnostics.subscribe(channels.queryScoped, (event) => console.log(event));
 * ```
 *
 * @module
 */
import diagnostics from 'node:diagnostics_channel';
import type { Tenant } from './types.js';

/**
 * The channel names, to pass to `diagnostics_channel.subscribe`.
 *
 * @example
 * ```ts
 * import diagnostics from 'node:diagnostics_channel';
 * diagnostics.subscribe(channels.requestResolved, (event) => console.log(event as RequestResolvedEvent));
 * ```
 */
export const channels = Object.freeze({
  /** An HTTP request's tenant found, or the request refused: {@link RequestResolvedEvent}. */
  requestResolved: 'tenantry:request-resolved',
  /** A tenant's (or the shared) scope entered by `run`, `runTenant` or `runShared`: {@link ScopeEnteredEvent}. */
  scopeEntered: 'tenantry:scope-entered',
  /** A query sent by tenantPool or a TenantClient: {@link QueryScopedEvent}. */
  queryScoped: 'tenantry:query-scoped',
  /** A tenant's migrations started, done or failed: {@link TenantMigrationEvent}. */
  tenantMigration: 'tenantry:tenant-migration',
  /** A tenant provisioned (or its provisioning failed) by `registry.create`: {@link ProvisioningEvent}. */
  provisioning: 'tenantry:provisioning',
  /** Platform staff acting inside a tenant with `tenancy.impersonate`: {@link ImpersonationEvent}. */
  impersonation: 'tenantry:impersonation',
  /** tenantPool's connection choices: a tenant served by its home connection or another, a connection retired: {@link PoolDecisionEvent}. */
  poolDecision: 'tenantry:pool-decision',
  /** A tenant's backup, restore or clone done or failed (`tenancy.backup`, `restore`, `clone`, the CLI): {@link BackupEvent}. */
  backup: 'tenantry:backup',
} as const);

/**
 * What {@link channels}.requestResolved carries.
 *
 * @example
 * ```ts
 * const event: RequestResolvedEvent = { outcome: 'refused', tenantId: null, status: 404, code: 'TENANTRY_TENANT_NOT_FOUND', host: 'nope.example.com', path: '/' };
 * ```
 */
export interface RequestResolvedEvent {
  /** `tenant`: served in a tenant's scope; `shared`: no tenant named, served shared; `refused`: answered with `status`. */
  readonly outcome: 'tenant' | 'shared' | 'refused';
  readonly tenantId: string | null;
  readonly status?: number;
  readonly code?: string;
  readonly host: string | undefined;
  readonly path: string | undefined;
}

/**
 * What {@link channels}.scopeEntered carries: the tenant, or `null` for the shared scope.
 *
 * @example
 * ```ts
 * import diagnostics from 'node:diagnostics_channel';
 * declare const span: { setAttribute(key: string, value: string): void };
 * diagnostics.subscribe(channels.scopeEntered, (event) => span.setAttribute('tenant.id', (event as ScopeEnteredEvent).tenant?.id ?? 'shared'));
 * ```
 */
export interface ScopeEnteredEvent {
  readonly tenant: Tenant | null;
}

/**
 * What {@link channels}.queryScoped carries, as the query is written to the connection.
 *
 * @example
 * ```ts
 * import diagnostics from 'node:diagnostics_channel';
 * declare const counter: { inc(labels: Record<string, string>): void };
 * diagnostics.subscribe(channels.queryScoped, (event) => {
 *   const { tenantId, setScope } = event as QueryScopedEvent;
 *   counter.inc({ tenant: tenantId ?? 'shared', set: String(setScope) });
 * });
 * ```
 */
export interface QueryScopedEvent {
  /** The tenant the query runs for, `null` in the shared scope. */
  readonly tenantId: string | null;
  /** Whether the scope went with the query (the connection had another one); false when it was already set. */
  readonly setScope: boolean;
  /** Whether the session was cleaned of another tenant's state first. */
  readonly cleaned: boolean;
}

/**
 * What {@link channels}.tenantMigration carries.
 *
 * @example
 * ```ts
 * const event: TenantMigrationEvent = { phase: 'done', tenantId: 'acme', applied: ['002_sku'], durationMs: 41 };
 * ```
 */
export interface TenantMigrationEvent {
  readonly phase: 'start' | 'done' | 'failed';
  readonly tenantId: string;
  readonly applied?: readonly string[];
  readonly error?: unknown;
  readonly durationMs?: number;
}

/**
 * What {@link channels}.provisioning carries: a tenant created by `registry.create` (from a
 * spare when `spare` is set) or a spare provisioned ahead (`tenantId` null), done or failed. A
 * background refill of the spares reports its failures here, and nowhere else.
 *
 * @example
 * ```ts
 * const event: ProvisioningEvent = { phase: 'done', tenantId: 'acme', spare: 'tenant__spare_0f3a9c1d2e4b5a67', durationMs: 2.1 };
 * ```
 */
export interface ProvisioningEvent {
  readonly phase: 'done' | 'failed';
  /** The tenant created, or `null` for a spare (provisioned ahead, migrated or dropped). */
  readonly tenantId: string | null;
  /** The spare's schema name: the spare a tenant was made from, or the spare this event is about. */
  readonly spare?: string;
  readonly error?: unknown;
  readonly durationMs: number;
}

/**
 * What {@link channels}.impersonation carries: who acted inside which tenant, why, and when.
 *
 * @example
 * ```ts
 * import diagnostics from 'node:diagnostics_channel';
 * diagnostics.subscribe(channels.impersonation, (event) => console.warn(event as ImpersonationEvent));
 * ```
 */
export interface ImpersonationEvent {
  readonly tenantId: string;
  readonly actor: string;
  readonly reason: string;
  readonly at: Date;
}

/**
 * What {@link channels}.poolDecision carries: tenantPool's choice of connection for a checkout,
 * or a connection retired after serving `maxTenantsPerConnection` distinct tenants.
 *
 * @example
 * ```ts
 * import diagnostics from 'node:diagnostics_channel';
 * let borrowed = 0;
 * diagnostics.subscribe(channels.poolDecision, (event) => {
 *   if ((event as PoolDecisionEvent).decision === 'borrowed') borrowed += 1;
 * });
 * ```
 */
export interface PoolDecisionEvent {
  /** `home`: the tenant's home connection served it; `borrowed`: another one did; `retired`: the connection closes after this use. */
  readonly decision: 'home' | 'borrowed' | 'retired';
  /** The tenant checked out for, `null` for `retired`. */
  readonly tenantId: string | null;
  /** The connection's backend process id. */
  readonly processID: number | null;
  /** How many distinct tenants the connection has served. */
  readonly tenantsServed: number;
}

/**
 * What {@link channels}.backup carries: one per backup, restore, clone or move, when it ends.
 *
 * @example
 * ```ts
 * const event: BackupEvent = { operation: 'backup', phase: 'done', tenantId: 'acme', rows: 1002, bytes: 48_113, durationMs: 212 };
 * ```
 */
export interface BackupEvent {
  readonly operation: 'backup' | 'backup-shared' | 'restore' | 'clone' | 'move';
  readonly phase: 'done' | 'failed';
  /** The tenant backed up, restored or cloned into; `null` for the shared tables, or a restore that failed before it read the archive's id. */
  readonly tenantId: string | null;
  /** Rows and bytes of COPY text, when done. */
  readonly rows?: number;
  readonly bytes?: number;
  readonly error?: unknown;
  readonly durationMs: number;
}

/** @internal The channel objects, made once. */
export const requestResolvedChannel = diagnostics.channel(channels.requestResolved);
/** @internal */
export const scopeEnteredChannel = diagnostics.channel(channels.scopeEntered);
/** @internal */
export const queryScopedChannel = diagnostics.channel(channels.queryScoped);
/** @internal */
export const tenantMigrationChannel = diagnostics.channel(channels.tenantMigration);
/** @internal */
export const provisioningChannel = diagnostics.channel(channels.provisioning);
/** @internal */
export const impersonationChannel = diagnostics.channel(channels.impersonation);
/** @internal */
export const poolDecisionChannel = diagnostics.channel(channels.poolDecision);
/** @internal */
export const backupChannel = diagnostics.channel(channels.backup);
