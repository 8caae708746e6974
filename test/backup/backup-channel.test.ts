import diagnostics from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { type BackupEvent, BackupArchiveError, channels, createTenancy } from '../../src/index.js';
import { useTestDatabase } from '../helpers/database.js';
import { rejection } from '../helpers/thrown.js';
import { toleratePoolTeardown, uniqueNames } from '../migrate/migration-folder.js';
import { CATALOG, SEED, collector, fillTenant, sourceOf } from './backup-fixture.js';

const db = useTestDatabase();
toleratePoolTeardown(db);

describe('the tenantry:backup channel', () => {
  it('reports each backup, restore and clone when it ends, with rows and bytes, and a failed restore with its error', async () => {
    const tenancy = createTenancy({ pool: db.pool, ...uniqueNames('ch'), migrations: { tenant: [CATALOG, SEED] } });
    await tenancy.migrate.shared();
    const acme = await tenancy.registry.create({ id: 'acme' });
    await fillTenant(db.pool, acme.schema);
    const events: BackupEvent[] = [];
    const listen = (event: unknown) => events.push(event as BackupEvent);
    diagnostics.subscribe(channels.backup, listen);
    try {
      const archive = collector();
      const backup = await tenancy.backup('acme', archive.stream);
      const bytes = await archive.bytes();
      const restored = await tenancy.restore(sourceOf(bytes), { id: 'acme-copy' });
      await tenancy.clone('acme', 'acme-clone');
      const failure = await rejection(tenancy.restore(sourceOf(bytes.subarray(0, bytes.length - 40)), { id: 'acme-cut' }));
      expect(failure).toBeInstanceOf(BackupArchiveError);
      expect(events.map(({ operation, phase, tenantId }) => [operation, phase, tenantId])).toEqual([
        ['backup', 'done', 'acme'],
        ['restore', 'done', 'acme-copy'],
        ['clone', 'done', 'acme-clone'],
        ['restore', 'failed', 'acme-cut'],
      ]);
      expect(events[0]).toMatchObject({ rows: backup.rows, bytes: backup.bytes });
      expect(events[1]).toMatchObject({ rows: restored.rows });
      expect(events[3]!.error).toBe(failure);
      expect(events.every((event) => event.durationMs >= 0)).toBe(true);
    } finally {
      diagnostics.unsubscribe(channels.backup, listen);
    }
  });
});
