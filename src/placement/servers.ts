/**
 * The servers of a tenancy: where each tenant's placement points, and a pool for each.
 *
 * @module
 */
import type { PoolLike } from '../db.js';
import { InvalidConfigError, UnknownServerError } from '../errors.js';

/**
 * A server: a pg.Pool (or compatible pool) on it, or its URL (tenantry then makes the pool and
 * ends it with `tenancy.close()`).
 *
 * @example
 * ```ts
 * const eu: ServerInput = 'postgres://app@eu-db.internal:5432/app';
 * ```
 */
export type ServerInput = PoolLike | string;

/** Makes a pool for a server given by URL. */
export type PoolFactory = (connectionString: string) => PoolLike & { end?(): Promise<void> };

/** The placement of tenants created with none: the registry's own server. */
export const DEFAULT_PLACEMENT = 'default';

const SERVER_NAME = /^[a-zA-Z0-9_.:-]{1,63}$/;

/**
 * The servers of `createTenancy({ servers })`. The registry lives on `pool` when given, else on
 * the first server; a tenant whose placement is `default` or names the registry's server lives
 * there too, every other placement names a server of the map.
 *
 * @example
 * ```ts
 * declare const mainPool: PoolLike;
 * const servers = new Servers({ main: mainPool, eu: 'postgres://app@eu-db/app' }, undefined);
 * servers.isHome('default'); // true: the first server holds the registry
 * servers.nameOf('eu');      // 'eu'
 * ```
 */
export class Servers {
  readonly #inputs: ReadonlyMap<string, ServerInput>;
  readonly #made = new Map<string, PoolLike & { end?(): Promise<void> }>();
  readonly #home: string | undefined;
  readonly #homePool: PoolLike | undefined;
  #factory: PoolFactory | undefined;

  constructor(servers: Readonly<Record<string, ServerInput>> | undefined, pool: PoolLike | undefined) {
    if (servers !== undefined && (typeof servers !== 'object' || servers === null || Array.isArray(servers))) {
      throw new InvalidConfigError('createTenancy servers must be an object: { name: pool or URL, … }');
    }
    const entries = Object.entries(servers ?? {});
    for (const [name, input] of entries) checkServer(name, input);
    this.#inputs = new Map(entries);
    // The registry's server: the one whose pool (or URL) is `pool`'s, else the first (without `pool`).
    const url = (pool as { options?: { connectionString?: unknown } } | undefined)?.options?.connectionString;
    const homeEntry = pool === undefined ? entries[0] : entries.find(([, input]) => input === pool || (typeof url === 'string' && input === url));
    this.#home = homeEntry?.[0];
    const home = homeEntry?.[0];
    this.#homePool = pool ?? (typeof homeEntry?.[1] === 'object' ? homeEntry[1] : home === undefined ? undefined : lazyPool(() => this.pool(home)));
  }

  /** Whether any server besides the registry's is configured. */
  get placed(): boolean {
    return [...this.#inputs.keys()].some((name) => name !== this.#home);
  }

  /** The configured server names, in order. */
  get names(): readonly string[] {
    return [...this.#inputs.keys()];
  }

  /** The pool of the registry's server (`pool`, else the first server's). */
  get homePool(): PoolLike | undefined {
    return this.#homePool;
  }

  /** Makes pools for servers given by URL with `factory` (tenantPool sets node-postgres'). */
  usePoolFactory(factory: PoolFactory): void {
    this.#factory ??= factory;
  }

  /** The server a placement names: `undefined` for the registry's own; an unknown name throws `UnknownServerError`. */
  nameOf(placement: string): string | undefined {
    if (placement === DEFAULT_PLACEMENT || placement === this.#home) return undefined;
    if (!this.#inputs.has(placement)) throw new UnknownServerError(placement, this.names);
    return placement;
  }

  /** Whether a placement's tenants live on the registry's server. */
  isHome(placement: string): boolean {
    return this.nameOf(placement) === undefined;
  }

  /** What a server was given as: its pool, or its URL. */
  input(name: string): ServerInput {
    const input = this.#inputs.get(name);
    if (input === undefined) throw new UnknownServerError(name, this.names);
    return input;
  }

  /** The pool of a server now: `undefined` for a server given by URL before its pool is made without a factory. */
  poolNow(name: string): PoolLike | undefined {
    const input = this.#inputs.get(name);
    if (input === undefined) throw new UnknownServerError(name, this.names);
    if (typeof input !== 'string') return input;
    let made = this.#made.get(name);
    if (made === undefined && this.#factory !== undefined) this.#made.set(name, (made = this.#factory(input)));
    return made;
  }

  /** The pool of a server, made from its URL with node-postgres when needed. */
  async pool(name: string): Promise<PoolLike> {
    const now = this.poolNow(name);
    if (now !== undefined) return now;
    const { default: pg } = await import('pg');
    this.usePoolFactory((connectionString) => new pg.Pool({ connectionString }));
    return this.poolNow(name)!;
  }

  /** Ends the pools made from URLs. */
  async close(): Promise<void> {
    const made = [...this.#made.values()];
    this.#made.clear();
    await Promise.all(made.map((pool) => pool.end?.()));
  }
}

/**
 * A pool made on first use (a server given by URL: node-postgres loads then), for what runs
 * `query` and `connect` only.
 *
 * @example
 * ```ts
 * declare const servers: Servers;
 * const eu = lazyPool(() => servers.pool('eu'));
 * ```
 */
export function lazyPool(make: () => Promise<PoolLike>): PoolLike {
  let made: Promise<PoolLike> | undefined;
  const pool = (): Promise<PoolLike> => (made ??= make());
  return {
    query: async (text, values) => (await pool()).query(text, values),
    connect: async () => (await pool()).connect(),
  } as PoolLike;
}

function checkServer(name: string, input: unknown): void {
  if (!SERVER_NAME.test(name) || name === DEFAULT_PLACEMENT) {
    throw new InvalidConfigError(`A server name is 1 to 63 of letters, digits, "_", ".", ":" and "-", and not "default": got ${JSON.stringify(name)}`);
  }
  if (typeof input === 'string') {
    if (!/^postgres(ql)?:\/\//.test(input)) throw new InvalidConfigError(`Server ${name}: a URL starts with postgres:// (got something else)`);
    return;
  }
  const pool = input as PoolLike | null;
  if (typeof pool?.query !== 'function' || typeof pool.connect !== 'function') {
    throw new InvalidConfigError(`Server ${name} must be a pg.Pool or a postgres:// URL`);
  }
}
