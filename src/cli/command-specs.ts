/**
 * What each command of `tenantry` accepts: its arguments and options, with the words its
 * `--help` shows. The parser and the help text both read this table.
 *
 * @module
 */

/**
 * One option of a command (or of every command).
 *
 * @example
 * ```ts
 * const tenant: OptionSpec = { type: 'string', multiple: true, value: 'ID', description: 'only this tenant (repeatable)' };
 * ```
 */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly multiple?: true;
  readonly short?: string;
  /** The value's placeholder in the help, e.g. `ID`. */
  readonly value?: string;
  readonly description: string;
}

/**
 * The names of the commands, `tenants` subcommands written with a space.
 *
 * @example
 * ```ts
 * const name: CommandName = 'tenants delete';
 * ```
 */
export type CommandName =
  | 'migrate'
  | 'status'
  | 'doctor'
  | 'init'
  | 'run'
  | 'tenants'
  | 'tenants create'
  | 'tenants list'
  | 'tenants show'
  | 'tenants suspend'
  | 'tenants resume'
  | 'tenants delete'
  | 'spares'
  | 'tenants clone'
  | 'tenants export'
  | 'tenants move'
  | 'backup'
  | 'restore'
  | 'help';

/**
 * One command: what it does, its arguments and options.
 *
 * @example
 * ```ts
 * const show: CommandSpec = { name: 'tenants show', summary: 'show one tenant with its domains', args: ['ID'], options: {} };
 * ```
 */
export interface CommandSpec {
  readonly name: CommandName;
  readonly summary: string;
  /** The positional arguments, all required, e.g. `['ID']`. */
  readonly args: readonly string[];
  /** Positional arguments after `args` that may be left out, e.g. `['ID']` for `backup [ID]`. */
  readonly optionalArgs?: readonly string[];
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** More lines for `--help`. */
  readonly notes?: readonly string[];
}

/**
 * The options every command takes.
 *
 * @example
 * ```ts
 * Object.keys(GLOBAL_OPTIONS); // ['config', 'database-url', 'json', …]
 * ```
 */
export const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  config: { type: 'string', value: 'PATH', description: 'the config file (default: tenantry.config.{ts,mts,js,mjs} in this folder)' },
  'database-url': { type: 'string', value: 'URL', description: 'the database (default: the config file, then DATABASE_URL)' },
  'shared-migrations': { type: 'string', value: 'DIR', description: 'the shared migrations folder (overrides the config file)' },
  'tenant-migrations': { type: 'string', value: 'DIR', description: 'the tenant migrations folder (overrides the config file)' },
  'shared-schema': { type: 'string', value: 'NAME', description: 'the schema of the registry and shared tables (default public)' },
  'schema-prefix': { type: 'string', value: 'PREFIX', description: 'the prefix of new tenant schemas (default tenant_)' },
  json: { type: 'boolean', description: 'print one JSON document on stdout instead of lines' },
  verbose: { type: 'boolean', description: 'print stack traces and more detail on stderr' },
  help: { type: 'boolean', short: 'h', description: 'show the help of the command' },
  version: { type: 'boolean', description: 'print the version of tenantry' },
};

const TENANT_ID = 'tenant ids are lower-case DNS labels: a-z, 0-9 and "-", at most 63 characters';

/**
 * Every command, by name.
 *
 * @example
 * ```ts
 * COMMANDS['tenants delete'].options['drop-schema']?.type; // 'boolean'
 * ```
 */
export const COMMANDS: Readonly<Record<CommandName, CommandSpec>> = {
  migrate: {
    name: 'migrate',
    summary: 'apply pending migrations: the shared schema, then every tenant',
    args: [],
    options: {
      shared: { type: 'boolean', description: 'migrate the shared schema (with --tenants: both)' },
      tenants: { type: 'boolean', description: 'migrate the tenants (with --shared: both)' },
      tenant: { type: 'string', multiple: true, value: 'ID', description: 'migrate only this tenant (repeatable; implies --tenants)' },
      concurrency: { type: 'string', value: 'N', description: 'tenants migrated at once (default 4)' },
      'lock-timeout': { type: 'string', value: 'MS', description: "lock_timeout of each tenant's transaction, in ms (default 5000; 0: no limit)" },
      'lock-retries': { type: 'string', value: 'N', description: 'tries again a tenant that hit lock_timeout, after the others, N more times (default 2)' },
      'dry-run': { type: 'boolean', description: 'list what would be applied, apply nothing' },
      'allow-changed': { type: 'boolean', description: 'accept applied migrations whose file was edited' },
    },
    notes: [
      'With neither --shared nor --tenants: the shared schema, then the tenants.',
      'Each tenant migrates in its own transaction. Ctrl-C starts no new tenant, lets the ones in',
      'flight commit or roll back, then exits with 130; run the command again to finish.',
      'A tenant blocked by another session\'s lock for longer than --lock-timeout is rolled back and',
      'tried again after the others; after --lock-retries more tries it is reported as failed.',
    ],
  },
  status: {
    name: 'status',
    summary: "show the applied and pending migrations of the shared schema and of each tenant",
    args: [],
    options: {
      tenant: { type: 'string', multiple: true, value: 'ID', description: 'only this tenant (repeatable)' },
      status: { type: 'string', value: 'STATUS', description: 'only active or suspended tenants' },
      behind: { type: 'boolean', description: 'only tenants with migrations to apply' },
      limit: { type: 'string', value: 'N', description: 'at most N tenants (a page; the next one starts with --after)' },
      after: { type: 'string', value: 'ID', description: 'tenants whose id sorts after ID (the next page)' },
      drift: { type: 'boolean', description: "compare each tenant schema's structure with the migrations (exit code 1 when one differs)" },
    },
    notes: [
      'Tenants come from one registry query; only the schemas of tenants behind are read.',
      '--drift builds a reference schema from the tenant migrations (rolled back) and compares every',
      'tenant schema with it in a few catalog queries; it lists what differs for each drifted tenant.',
    ],
  },
  doctor: {
    name: 'doctor',
    summary: 'check a deployment and print what is wrong, with a fix for each',
    args: [],
    options: {},
    notes: [
      'Checks the server version, a transaction pooler on the URL against tenantPool.mode (config),',
      'the login role, the registry and shared migrations, tenants behind, drift, the schema and',
      'relation counts (docs/scaling.md), and runs a two-tenant leak probe through tenantPool (two',
      'temporary tenants, deleted again, when fewer than two exist). Exit code 1 when a finding is',
      'a warning or an error.',
    ],
  },
  init: {
    name: 'init',
    summary: 'write tenantry.config.ts and the migrations folders, with examples',
    args: [],
    options: {
      js: { type: 'boolean', description: 'write tenantry.config.mjs instead of tenantry.config.ts' },
      force: { type: 'boolean', description: 'overwrite files that exist' },
    },
  },
  run: {
    name: 'run',
    summary: 'run a SQL file or a module over every active tenant, each in its own scope',
    args: ['FILE'],
    options: {
      tenant: { type: 'string', multiple: true, value: 'ID', description: 'only this tenant (repeatable)' },
      concurrency: { type: 'string', value: 'N', description: 'tenants run at once (default 4)' },
    },
    notes: [
      'A .sql file runs in one transaction per tenant: all of it, or none of it for that tenant.',
      'A module (.js, .mjs, .ts…) default-exports (tenant, { db, signal }) => value; db is a',
      'tenantPool over the configured database. One failed tenant does not stop the others;',
      'exit code 1 when any failed. Ctrl-C starts no new tenant and exits with 130.',
    ],
  },
  tenants: {
    name: 'tenants',
    summary: 'create, list, show, suspend, resume, delete, clone, export and move tenants',
    args: [],
    options: {},
    notes: ['Commands: create, list, show, suspend, resume, delete, clone, export, move. Run tenantry tenants COMMAND --help.'],
  },
  'tenants create': {
    name: 'tenants create',
    summary: 'register a tenant, create its schema and apply the tenant migrations, in one transaction',
    args: ['ID'],
    options: {
      name: { type: 'string', value: 'NAME', description: 'the display name (default: the id)' },
      domain: { type: 'string', multiple: true, value: 'DOMAIN', description: 'a domain of the tenant (repeatable; the first is primary)' },
      metadata: { type: 'string', value: 'JSON', description: 'a JSON object of app data, e.g. \'{"plan":"pro"}\'' },
    },
    notes: [`ID: ${TENANT_ID}.`],
  },
  'tenants list': {
    name: 'tenants list',
    summary: 'list every tenant, ordered by id',
    args: [],
    options: {
      status: { type: 'string', value: 'STATUS', description: 'only active or suspended tenants' },
      limit: { type: 'string', value: 'N', description: 'at most N tenants (a page; the next one starts with --after)' },
      after: { type: 'string', value: 'ID', description: 'tenants whose id sorts after ID (the next page)' },
    },
  },
  'tenants show': { name: 'tenants show', summary: 'show one tenant with its domains', args: ['ID'], options: {} },
  'tenants suspend': {
    name: 'tenants suspend',
    summary: "suspend a tenant: its data stays, its requests are refused",
    args: ['ID'],
    options: {},
  },
  'tenants resume': { name: 'tenants resume', summary: 'serve a suspended tenant again', args: ['ID'], options: {} },
  'tenants delete': {
    name: 'tenants delete',
    summary: "remove a tenant from the registry (its schema stays unless --drop-schema)",
    args: ['ID'],
    options: {
      'drop-schema': { type: 'boolean', description: "also drop the tenant's schema and all its data" },
      yes: { type: 'boolean', short: 'y', description: 'do not ask for confirmation (needed without a terminal)' },
    },
    notes: ['With --drop-schema on a terminal, you confirm by typing the tenant id.'],
  },
  spares: {
    name: 'spares',
    summary: 'fill, show or clear the spare tenants that tenants create claims (config: spares: { count })',
    args: ['fill|status|clear'],
    options: {
      count: { type: 'string', value: 'N', description: 'fill: provision up to N spares instead of the configured count' },
    },
    notes: [
      'fill: migrates the spares that are behind, then provisions spares (one transaction each) until the',
      'count are ready. status: the spares, ready or behind the tenant migrations. clear: drops every spare.',
      'Spares need spares: { count: N } in the config file (see docs/provisioning.md).',
    ],
  },
  'tenants clone': {
    name: 'tenants clone',
    summary: 'copy a tenant into a new one (its rows, sequences and migrations; no domains unless --domain)',
    args: ['FROM', 'TO'],
    options: {
      name: { type: 'string', value: 'NAME', description: "the clone's display name (default: the source's)" },
      domain: { type: 'string', multiple: true, value: 'DOMAIN', description: 'a domain of the clone (repeatable; the first is primary)' },
    },
    notes: ['The clone is registered only once every row is in; Ctrl-C or a failure leaves no clone.'],
  },
  'tenants move': {
    name: 'tenants move',
    summary: 'move a tenant to another server, or between the shared tables and a schema of its own (writes paused meanwhile, none lost)',
    args: ['ID'],
    options: {
      to: { type: 'string', value: 'SERVER', description: 'the server to move it to (a name of servers in the config)' },
      strategy: { type: 'string', value: 'STRATEGY', description: "strategy: 'rls' only: schema (into a schema of its own) or rls (back into the shared tables)" },
      'lock-timeout': { type: 'string', value: 'MS', description: 'how long to wait for writes in flight before giving up (default 30000)' },
    },
    notes: [
      'While it moves, the tenant\'s writes get 503 with Retry-After (reads go on); a failure leaves it',
      'where it was, active. --to needs servers: { name: URL, … } in the config file (see docs/scaling.md);',
      "--strategy needs strategy: 'rls' (see docs/rls.md, \"Moving between strategies\").",
    ],
  },
  'tenants export': {
    name: 'tenants export',
    summary: "write a tenant's data: the backup archive, or a JSON or CSV file per table for people",
    args: ['ID'],
    options: {
      format: { type: 'string', value: 'FORMAT', description: 'archive, json (default) or csv' },
      output: { type: 'string', short: 'o', value: 'PATH', description: 'the folder (json, csv; default ./ID-export) or the file (archive)' },
    },
    notes: ['json and csv write one file per table and tenant.json (the record and its domains) into the folder.'],
  },
  backup: {
    name: 'backup',
    summary: "write a tenant's backup archive (or the shared tables' with --shared)",
    args: [],
    optionalArgs: ['ID'],
    options: {
      output: { type: 'string', short: 'o', value: 'FILE', description: 'the archive file (default: stdout, when it is not a terminal)' },
      shared: { type: 'boolean', description: "back up the app's shared tables (not tenantry's own registry tables)" },
      compression: { type: 'string', value: 'LEVEL', description: 'gzip level 0 to 9 (default 6)' },
    },
    notes: [
      'The archive is gzip: a manifest, each table\'s rows (COPY) with counts and checksums, sequences.',
      'All tables are read from one snapshot while the tenant keeps serving. See docs/backup.md.',
    ],
  },
  restore: {
    name: 'restore',
    summary: 'restore a tenant from a backup archive, under its id or another (--as: a clone)',
    args: ['FILE'],
    options: {
      as: { type: 'string', value: 'ID', description: "the restored tenant's id (default: the archive's)" },
      name: { type: 'string', value: 'NAME', description: "the display name (default: the archive's)" },
      domain: { type: 'string', multiple: true, value: 'DOMAIN', description: "a domain (repeatable; default: the archive's under its own id, none with --as)" },
      to: { type: 'string', value: 'SERVER', description: "the server to restore it on, a name of servers in the config (default: the archive's placement, if the config has that server)" },
      'allow-changed': { type: 'boolean', description: 'restore although a migration of the archive was edited since' },
      'allow-unknown': { type: 'boolean', description: 'restore although the archive has migrations this app does not' },
    },
    notes: [
      'FILE - reads the archive from stdin. Counts and checksums are checked before the tenant is',
      'registered; a corrupted archive, a failure or Ctrl-C leaves nothing behind.',
    ],
  },
  help: { name: 'help', summary: 'show the help of a command', args: [], options: {} },
};

/**
 * The subcommands of `tenants`.
 *
 * @example
 * ```ts
 * TENANTS_SUBCOMMANDS.includes('suspend'); // true
 * ```
 */
export const TENANTS_SUBCOMMANDS = ['create', 'list', 'show', 'suspend', 'resume', 'delete', 'clone', 'export', 'move'] as const;
