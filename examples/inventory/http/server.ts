/**
 * A listening HTTP server, the same shape for the three entry points.
 *
 * @module
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A server listening on a port. */
export interface RunningServer {
  readonly port: number;
  /** Stops accepting connections, ends idle keep-alive ones, and resolves when the server is closed. */
  close(): Promise<void>;
}

/**
 * Listens with a Node HTTP server (Express, Koa) and resolves once it accepts connections.
 *
 * @example
 * ```ts
 * const running = await listen(http.createServer(app), 3000, '127.0.0.1');
 * ```
 */
export async function listen(server: Server, port: number, host: string): Promise<RunningServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
        // Requests still running get a moment to finish; then their sockets are closed too.
        setTimeout(() => server.closeAllConnections(), 2_000).unref();
      }),
  };
}
