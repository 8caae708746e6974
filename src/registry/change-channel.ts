/**
 * Registry changes across processes: writers NOTIFY, every process LISTENs and drops what it cached.
 *
 * @module
 */
import type { PoolClientLike, PoolLike, Queryable } from '../db.js';

/** The PostgreSQL channel registry changes are announced on; payloads are `<shared schema>:<tenant id>`. */
export const CHANGE_CHANNEL = 'tenantry_registry';

/**
 * Announces that a tenant changed. Sent inside the writer's transaction, so listeners hear of
 * it only when (and if) it commits.
 *
 * @example
 * ```ts
 * await announceChange(client, 'public', 'acme');
 * ```
 */
export async function announceChange(client: Queryable, sharedSchema: string, tenantId: string): Promise<void> {
  await client.query('SELECT pg_notify($1, $2)', changeNotice(sharedSchema, tenantId));
}

/**
 * The channel and payload of a change announcement, for a statement that sends it itself
 * (`pg_notify($n, $m)` next to the write, saving a round trip).
 *
 * @example
 * ```ts
 * changeNotice('public', 'acme'); // ['tenantry_registry', 'public:acme']
 * ```
 */
export function changeNotice(sharedSchema: string, tenantId: string): [string, string] {
  return [CHANGE_CHANNEL, `${sharedSchema}:${tenantId}`];
}

/** A running listener. */
export interface ChangeListener {
  close(): Promise<void>;
}

interface ListeningClient extends Queryable {
  on(event: 'notification', listener: (message: { channel: string; payload?: string }) => void): unknown;
  on(event: 'error' | 'end', listener: (error?: Error) => void): unknown;
  removeAllListeners(): unknown;
}

type ClientFactory = () => Promise<{ client: ListeningClient; done: () => Promise<void> }>;

/**
 * LISTENs for registry changes on a connection of its own (made from the pool's settings, so
 * `pool.end()` never waits for it, and it does not keep the process alive). Calls `onChange`
 * with each changed tenant id, and `onGap` whenever it (re)connects, since changes may have been
 * missed while it was away. Reconnects with backoff.
 *
 * @example
 * ```ts
 * declare const cache: import('./tenant-cache.js').TenantCache;
 * const listener = listenForChanges(pool, 'public', (id) => cache.invalidate(id), () => cache.clear());
 * await listener.close();
 * ```
 */
export function listenForChanges(
  pool: PoolLike,
  sharedSchema: string,
  onChange: (tenantId: string) => void,
  onGap: () => void,
): ChangeListener {
  const factory = clientFactory(pool);
  const prefix = `${sharedSchema}:`;
  let closed = false;
  let current: { client: ListeningClient; done: () => Promise<void> } | undefined;
  let retry: NodeJS.Timeout | undefined;
  let delay = 100;

  const connect = async (): Promise<void> => {
    if (closed) return;
    try {
      const handle = await factory();
      if (closed) return void (await handle.done());
      current = handle;
      handle.client.on('notification', (message) => {
        if (message.channel === CHANGE_CHANNEL && message.payload?.startsWith(prefix)) onChange(message.payload.slice(prefix.length));
      });
      const lost = (): void => {
        handle.client.removeAllListeners();
        handle.client.on('error', () => {});
        if (current === handle) current = undefined;
        schedule();
      };
      handle.client.on('error', lost);
      handle.client.on('end', lost);
      await handle.client.query(`LISTEN ${CHANGE_CHANNEL}`);
      delay = 100;
      onGap();
    } catch {
      schedule();
    }
  };

  const schedule = (): void => {
    if (closed || retry !== undefined) return;
    retry = setTimeout(() => {
      retry = undefined;
      void connect();
    }, delay);
    retry.unref();
    delay = Math.min(delay * 2, 5_000);
  };

  const ready = connect();
  return {
    async close() {
      closed = true;
      clearTimeout(retry);
      await ready;
      const handle = current;
      current = undefined;
      if (handle) {
        handle.client.removeAllListeners();
        handle.client.on('error', () => {});
        await handle.done();
      }
    },
  };
}

/** A dedicated pg.Client from the pool's own Client class and options, or (other pools) a pooled client. */
function clientFactory(pool: PoolLike): ClientFactory {
  const { Client, options } = pool as unknown as { Client?: new (options: unknown) => ListeningClient & { connect(): Promise<void>; end(): Promise<void>; connection?: { stream?: { unref?: () => void } } }; options?: unknown };
  if (typeof Client === 'function' && options !== undefined) {
    return async () => {
      const client = new Client(options);
      client.on('error', () => {});
      await client.connect();
      client.connection?.stream?.unref?.();
      return { client, done: () => client.end().catch(() => undefined) };
    };
  }
  return async () => {
    const client = (await pool.connect()) as PoolClientLike & ListeningClient;
    return { client, done: async () => client.release(true) };
  };
}
