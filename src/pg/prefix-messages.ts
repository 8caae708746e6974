/**
 * The extended-protocol messages of the statements tenantPool sends ahead of a query (Parse,
 * Bind and Execute of each, unnamed, without parameters), encoded once per list of statements
 * and written as one buffer: no per-query serialization, and one chunk in the socket write
 * instead of three per statement.
 *
 * @module
 */

/** Bind of the unnamed portal to the unnamed statement: no parameters, results in text. */
const BIND = Buffer.from([0x42, 0, 0, 0, 14, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
/** Execute of the unnamed portal, every row. */
const EXECUTE = Buffer.from([0x45, 0, 0, 0, 9, 0, 0, 0, 0, 0]);

const encoded = new WeakMap<readonly string[], Buffer>();

/**
 * Parse, Bind and Execute of each statement, in order, as the bytes pg's own serializer writes
 * for `parse({ text })`, `bind({})` and `execute({})`; computed once per (frozen) list.
 *
 * @example
 * ```ts
 * declare const connection: { stream: { write(chunk: Buffer): boolean } };
 * connection.stream.write(prefixMessagesOf(['SET search_path TO "tenant_acme", "public", pg_temp']));
 * ```
 */
export function prefixMessagesOf(statements: readonly string[]): Buffer {
  let messages = encoded.get(statements);
  if (messages === undefined) {
    messages = Buffer.concat(statements.flatMap((statement) => [parseMessage(statement), BIND, EXECUTE]));
    encoded.set(statements, messages);
  }
  return messages;
}

/** Parse: the unnamed statement, its text, no parameter types. */
function parseMessage(text: string): Buffer {
  const textLength = Buffer.byteLength(text);
  const message = Buffer.alloc(1 + 4 + 1 + textLength + 1 + 2);
  message[0] = 0x50;
  message.writeInt32BE(message.length - 1, 1);
  message.write(text, 6, 'utf8');
  return message;
}
