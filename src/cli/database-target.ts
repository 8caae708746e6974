/**
 * Where the command connects, for messages: host, port, database and user, never the password.
 *
 * @module
 */

/**
 * The parts of a connection that messages may show.
 *
 * @example
 * ```ts
 * const target: DatabaseTarget = { host: 'db.internal', port: 5432, database: 'app', user: 'app' };
 * ```
 */
export interface DatabaseTarget {
  readonly host: string;
  readonly port: number;
  readonly database: string | undefined;
  readonly user: string | undefined;
}

/**
 * Reads the showable parts of a `postgres://` URL, or of a pool's options. Missing parts take
 * node-postgres' defaults (localhost, 5432); an unreadable URL gives `undefined`.
 *
 * @example
 * ```ts
 * databaseTarget('postgres://app:secret@db.internal:6432/shop');
 * // { host: 'db.internal', port: 6432, database: 'shop', user: 'app' }
 * ```
 */
export function databaseTarget(source: string | object | undefined): DatabaseTarget | undefined {
  if (source === undefined) return undefined;
  if (typeof source !== 'string') {
    const options = ((source as { options?: unknown }).options ?? {}) as { host?: unknown; port?: unknown; database?: unknown; user?: unknown };
    return {
      host: typeof options.host === 'string' ? options.host : 'localhost',
      port: Number(options.port ?? 5432) || 5432,
      database: typeof options.database === 'string' ? options.database : undefined,
      user: typeof options.user === 'string' ? options.user : undefined,
    };
  }
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    return undefined;
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  return {
    host: url.searchParams.get('host') ?? (decodeURIComponent(url.hostname.replace(/^\[|\]$/g, '')) || 'localhost'),
    port: Number(url.port || url.searchParams.get('port') || 5432),
    database: database === '' ? undefined : database,
    user: url.username === '' ? undefined : decodeURIComponent(url.username),
  };
}

/**
 * `host:port` of a target, or a socket folder as it is.
 *
 * @example
 * ```ts
 * showTarget({ host: '127.0.0.1', port: 5432, database: 'app', user: undefined }); // '127.0.0.1:5432'
 * ```
 */
export function showTarget(target: DatabaseTarget): string {
  return target.host.startsWith('/') ? `${target.host} (port ${target.port})` : `${target.host}:${target.port}`;
}
