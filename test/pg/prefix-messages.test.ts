/**
 * The statements tenantPool writes ahead of an extended-protocol query are encoded once: the
 * bytes must be exactly what pg's own serializer writes for them, message by message.
 */
import { serialize } from 'pg-protocol';
import { describe, expect, it } from 'vitest';
import { prefixMessagesOf } from '../../src/pg/prefix-messages.js';

describe('prefixMessagesOf', () => {
  it("writes pg's Parse, Bind and Execute of each statement, in order", () => {
    const statements = Object.freeze(['SET search_path TO "tenant_acme", "public", pg_temp', "SET tenantry.tenant_id TO 'acme'", 'SET ROLE "app_é"']);
    const expected = Buffer.concat(statements.flatMap((text) => [serialize.parse({ text }), serialize.bind({}), serialize.execute({})]));
    expect(prefixMessagesOf(statements).equals(expected)).toBe(true);
  });

  it('encodes a list once', () => {
    const statements = Object.freeze(['SET search_path TO "public", pg_temp']);
    expect(prefixMessagesOf(statements)).toBe(prefixMessagesOf(statements));
  });
});
