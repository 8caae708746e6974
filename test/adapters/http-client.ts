import http from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A request to send over real HTTP. */
export interface Outgoing {
  readonly method?: string;
  /** The request target (path and query), sent as it is. */
  readonly path?: string;
  /** Headers as sent; `host` replaces the one Node would set. */
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  /** Send no Host header at all. */
  readonly noHost?: boolean;
  /** A body, sent at once; or chunks, each written after `chunkDelayMs`. */
  readonly body?: string | Buffer;
  readonly chunks?: readonly (string | Buffer)[];
  readonly chunkDelayMs?: number;
}

/** A response, its body read as text and parsed when it is JSON. */
export interface Incoming {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly json: any;
}

/** A keep-alive HTTP client for one server on 127.0.0.1. */
export interface Client {
  send(request: Outgoing): Promise<Incoming>;
  close(): void;
}

/** A client on a keep-alive agent; `close()` destroys its sockets. */
export function httpClient(port: number, options: { maxSockets?: number } = {}): Client {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 });
  return {
    send: (request) => send(agent, port, request),
    close: () => agent.destroy(),
  };
}

/**
 * Sends a request. A failure on a reused keep-alive socket is retried once on a new connection:
 * Fastify answers a request that Node's HTTP parser refused with a 400 that has neither
 * `Connection: close` nor (for HEAD) a body-less framing, then destroys the socket. The agent may
 * already have handed that socket to the next request (ECONNRESET, Node's documented
 * `reusedSocket` case), or the next response starts with the 400's leftover body (HPE_* parse
 * error). Framing is the framework's job, not the adapter's; the retry gets the real answer.
 */
async function send(agent: http.Agent, port: number, request: Outgoing): Promise<Incoming> {
  try {
    return await sendOn(agent, port, request);
  } catch (error) {
    const { reusedSocket, code } = error as { reusedSocket?: boolean; code?: string };
    if (reusedSocket !== true || !(code === 'ECONNRESET' || code?.startsWith('HPE_'))) throw error;
    return sendOn(false, port, request);
  }
}

function sendOn(agent: http.Agent | false, port: number, request: Outgoing): Promise<Incoming> {
  return new Promise<Incoming>((resolve, reject) => {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(request.headers ?? {})) headers[name] = typeof value === 'string' ? value : [...value];
    // `http.request` takes one Host in its options; several are set on the request, one line each.
    const hosts = headers.host;
    if (Array.isArray(hosts)) delete headers.host;
    const outgoing = http.request(
      {
        host: '127.0.0.1',
        port,
        agent,
        method: request.method ?? 'GET',
        path: request.path ?? '/',
        headers,
        // An explicit Host is sent as it is, also when empty (Node would replace an empty one).
        setHost: request.noHost !== true && hosts === undefined,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          resolve(incoming(response.statusCode ?? 0, String(response.headers['content-type'] ?? ''), Buffer.concat(chunks)));
        });
      },
    );
    if (Array.isArray(hosts)) outgoing.setHeader('host', hosts);
    outgoing.on('error', (error) => reject(Object.assign(error, { reusedSocket: outgoing.reusedSocket })));
    if (request.chunks === undefined) {
      outgoing.end(request.body);
      return;
    }
    void (async () => {
      for (const chunk of request.chunks ?? []) {
        await sleep(request.chunkDelayMs ?? 5);
        if (outgoing.destroyed) return;
        outgoing.write(chunk);
      }
      outgoing.end();
    })();
  });
}

/**
 * Writes a request over a new socket exactly as given, which Node's client cannot: a request-target
 * in absolute form, two Host headers, none at all, HTTP/1.0. `lines` are the request line and the
 * header lines; `Connection: close` is added, so the response ends when the server closes.
 *
 * @example
 * ```ts
 * await sendRaw(port, ['GET http://globex.example.test/whoami HTTP/1.1', 'Host: acme.example.test']);
 * ```
 */
export function sendRaw(port: number, lines: readonly string[], body = ''): Promise<Incoming> {
  const request = `${[...lines, 'Connection: close'].join('\r\n')}\r\n\r\n${body}`;
  return new Promise<Incoming>((resolve, reject) => {
    const chunks: Buffer[] = [];
    // Not `end()`: Node's server drops a half-closed connection whose response is not sent yet.
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request, 'latin1'));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      try {
        resolve(parseResponse(Buffer.concat(chunks)));
      } catch (error) {
        reject(error as Error);
      }
    });
  });
}

/** Reads a whole HTTP/1.x response: status line, headers, and a body framed by length, chunks or the end. */
function parseResponse(bytes: Buffer): Incoming {
  const end = bytes.indexOf('\r\n\r\n');
  if (end === -1) throw new Error(`not an HTTP response: ${JSON.stringify(bytes.toString('latin1').slice(0, 200))}`);
  const [statusLine = '', ...headerLines] = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1];
  if (status === undefined) throw new Error(`not an HTTP status line: ${JSON.stringify(statusLine)}`);
  const headers = new Map(headerLines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
  let rest = bytes.subarray(end + 4);
  let body: Buffer;
  if (/chunked/i.test(headers.get('transfer-encoding') ?? '')) {
    const parts: Buffer[] = [];
    for (;;) {
      const lineEnd = rest.indexOf('\r\n');
      const size = Number.parseInt(rest.subarray(0, lineEnd).toString('latin1'), 16);
      if (!(size > 0)) break;
      parts.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
      rest = rest.subarray(lineEnd + 2 + size + 2);
    }
    body = Buffer.concat(parts);
  } else {
    const length = headers.get('content-length');
    body = length === undefined ? rest : rest.subarray(0, Number(length));
  }
  return incoming(Number(status), headers.get('content-type') ?? '', body);
}

/** A response with its body as text, and parsed when it is JSON. */
function incoming(status: number, contentType: string, body: Buffer): Incoming {
  const text = body.toString('utf8');
  let json: unknown;
  if (/json/.test(contentType)) {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  return { status, contentType, text, json };
}

/** A multipart/form-data body (built by the platform's FormData) and its content type. */
export async function multipartBody(fields: Record<string, string>, file: { field: string; name: string; content: string | Buffer; type?: string }): Promise<{ body: Buffer; contentType: string }> {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append(file.field, new Blob([file.content], { type: file.type ?? 'text/plain' }), file.name);
  const encoded = new Request('http://localhost/', { method: 'POST', body: form });
  return { body: Buffer.from(await encoded.arrayBuffer()), contentType: encoded.headers.get('content-type') ?? '' };
}

/** Splits a buffer into `count` pieces of about equal size (for bodies sent slowly). */
export function pieces(buffer: Buffer, count: number): Buffer[] {
  const size = Math.ceil(buffer.length / count);
  const out: Buffer[] = [];
  for (let offset = 0; offset < buffer.length; offset += size) out.push(buffer.subarray(offset, offset + size));
  return out;
}
