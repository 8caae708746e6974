import http from 'node:http';

/** A request to one of the example's servers on 127.0.0.1. */
export interface Send {
  readonly method?: string;
  readonly path: string;
  /** The Host header (default `localhost:<port>`, the platform). */
  readonly host?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** A JSON body (sent with `content-type: application/json` unless `headers` say otherwise). */
  readonly json?: unknown;
  /** A raw body, sent as it is. */
  readonly raw?: string;
  /** The client's address (another 127.x.y.z is another client to the server; default 127.0.0.1). */
  readonly localAddress?: string;
}

/** A response: status, headers, the body as text and, when it is JSON, parsed. */
export interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly json: any;
  /** The Set-Cookie values. */
  readonly cookies: readonly string[];
}

/** Sends one request (no keep-alive) and reads the whole response. */
export function send(port: number, request: Send): Promise<Reply> {
  const headers: Record<string, string> = { host: request.host ?? `localhost:${port}`, ...request.headers };
  let body: string | undefined = request.raw;
  if (request.json !== undefined) {
    body = JSON.stringify(request.json);
    headers['content-type'] ??= 'application/json';
  }
  return new Promise((resolve, reject) => {
    const options = { host: '127.0.0.1', port, method: request.method ?? 'GET', path: request.path, headers, agent: false, localAddress: request.localAddress ?? '127.0.0.1' };
    const outgoing = http.request(options, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        if (/json/.test(String(response.headers['content-type']))) json = JSON.parse(text);
        resolve({ status: response.statusCode ?? 0, headers: response.headers, text, json, cookies: response.headers['set-cookie'] ?? [] });
      });
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** The `name=value` part of the session cookie a response set (for a Cookie header). */
export function sessionCookieOf(reply: Reply): string {
  const cookie = reply.cookies.find((value) => value.startsWith('inventory_session='));
  if (cookie === undefined) throw new Error(`no session cookie in ${JSON.stringify(reply.cookies)} (status ${reply.status}: ${reply.text})`);
  return cookie.split(';')[0]!;
}
