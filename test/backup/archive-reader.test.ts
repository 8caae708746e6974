import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ARCHIVE_MAGIC, FrameType, frame, jsonFrame } from '../../src/backup/archive-format.js';
import { ArchiveReader } from '../../src/backup/archive-reader.js';
import { BackupArchiveError } from '../../src/index.js';
import { rejection } from '../helpers/thrown.js';

const manifest = {
  format: 1,
  kind: 'tenant',
  strategy: 'schema',
  schema: 'tenant_acme',
  tenant: { id: 'acme', name: 'Acme', domains: [] },
  migrations: [],
  tables: [{ name: 'items', columns: ['id'], dependsOn: [] }],
  sequences: [],
};

const archive = (...frames: Buffer[]) => Readable.from([Buffer.concat([ARCHIVE_MAGIC, ...frames])]);

describe('ArchiveReader', () => {
  it('reads an archive that is not compressed, one byte at a time', async () => {
    const rows = Buffer.from('1\n2\n');
    const { createHash } = await import('node:crypto');
    const sha256 = createHash('sha256').update(rows).digest('hex');
    const header = Buffer.from(JSON.stringify(manifest));
    const bytes = Buffer.concat([
      ARCHIVE_MAGIC,
      frame(FrameType.header, header),
      jsonFrame(FrameType.tableStart, { table: 'items' }),
      frame(FrameType.data, rows),
      jsonFrame(FrameType.tableEnd, { table: 'items', rows: 2, bytes: 4, sha256 }),
      jsonFrame(FrameType.trailer, { tables: [{ table: 'items', rows: 2, bytes: 4, sha256 }], manifestSha256: createHash('sha256').update(header).digest('hex') }),
    ]);
    const reader = new ArchiveReader(Readable.from([...bytes].map((byte) => Buffer.from([byte]))));
    expect((await reader.manifest()).tables.map((t) => t.name)).toEqual(['items']);
    const chunks: Buffer[] = [];
    for await (const chunk of reader.tableRows('items')) chunks.push(chunk);
    expect(Buffer.concat(chunks).toString()).toBe('1\n2\n');
    expect((await reader.finish()).tables).toHaveLength(1);
  });

  it('refuses a newer format, a manifest without a valid tenant, an unknown frame and a huge length', async () => {
    const cases: [Readable, RegExp][] = [
      [archive(jsonFrame(FrameType.header, { ...manifest, format: 99 })), /format 99.*upgrade tenantry/],
      [archive(jsonFrame(FrameType.header, { ...manifest, tenant: { id: 'acme', name: 'Acme', domains: 'x' } })), /no valid tenant/],
      [archive(jsonFrame(FrameType.header, { ...manifest, tables: [{ name: 'a\u0000b', columns: ['id'], dependsOn: [] }] })), /no valid list of tables/],
      [archive(frame(0x51, Buffer.from('{}'))), /frame header is not valid/],
      [archive(Buffer.from([FrameType.header, 0xff, 0xff, 0xff, 0xff])), /frame header is not valid/],
      [archive(frame(FrameType.header, Buffer.from('{not json'))), /not valid JSON/],
    ];
    for (const [source, message] of cases) {
      const error = await rejection(new ArchiveReader(source).manifest());
      expect(error).toBeInstanceOf(BackupArchiveError);
      expect((error as Error).message).toMatch(message);
    }
  });
});
