/**
 * The fleet's checks on Citus: migrate.drift() reads the coordinator's catalog and finds tenant
 * schemas changed by hand there, and rolls its scratch reference schema back on the workers too;
 * tenantry doctor's checks (drift, shared names, leak probe) pass.
 */
import { describe, expect, it } from 'vitest';
import { runDoctor } from '../../src/check/run-doctor.js';
import { createTenancy } from '../../src/index.js';
import { migrationFolder } from '../migrate/migration-folder.js';
import { describeCitus, IDENTITY_ITEMS, useCitusDatabase } from './citus-database.js';

describeCitus('fleet checks on Citus', () => {
  const db = useCitusDatabase();

  describe('migrate.drift and doctor, as the superuser', () => {
    it('finds no drift in provisioned tenants, then the index and default changed by hand', async () => {
      const folder = await migrationFolder({ '001_items.sql': IDENTITY_ITEMS });
      const tenancy = createTenancy({ pool: db.pool, schemaPrefix: 'drift_', migrations: { tenant: folder.path } });
      await tenancy.migrate.shared();
      const ids = ['drift-a', 'drift-b', 'drift-c'];
      const [a, b] = [await tenancy.registry.create({ id: ids[0]! }), await tenancy.registry.create({ id: ids[1]! }), await tenancy.registry.create({ id: ids[2]! })];
      const clean = await tenancy.migrate.drift({ only: ids });
      expect(clean).toMatchObject({ checked: 3, drifted: [], variants: 0 });

      await db.pool.query(`CREATE INDEX items_qty_idx ON "${a!.schema}".items (qty)`);
      await db.pool.query(`ALTER TABLE "${b!.schema}".items ALTER COLUMN qty SET DEFAULT 5`);
      const report = await tenancy.migrate.drift({ only: ids });
      expect(report.drifted.map((tenant) => [tenant.tenantId, tenant.differences.map((d) => `${d.change} ${d.kind} ${d.name}`)])).toEqual([
        ['drift-a', ['extra index items_qty_idx']],
        ['drift-b', ['changed column items.qty']],
      ]);
      // The scratch reference schema drift builds is rolled back on the workers too.
      const { rows } = await db.pool.query("SELECT result FROM run_command_on_workers($$SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'tenantry_drift_%'$$)");
      expect(rows.map((row) => row.result)).toEqual(db.workers.map(() => '0'));
    });

    it("passes doctor's drift, shared names and leak probe checks", async () => {
      const folder = await migrationFolder({ '001_items.sql': IDENTITY_ITEMS });
      const tenancy = createTenancy({ pool: db.pool, schemaPrefix: 'doc_', sharedSchema: 'doctor_shared', migrations: { tenant: folder.path } });
      // A shared schema of one's own stays on the coordinator when made with schema-based sharding off.
      await db.pool.query('SET citus.enable_schema_based_sharding = off; CREATE SCHEMA doctor_shared; RESET citus.enable_schema_based_sharding');
      await tenancy.migrate.shared();
      for (const id of ['doc-a', 'doc-b']) await tenancy.registry.create({ id });
      const findings = await runDoctor({ tenancy, pool: db.pool, mode: 'session' });
      const severity = (check: string) => findings.filter((f) => f.check === check).map((f) => f.severity);
      expect(severity('drift')).toEqual(['ok']);
      expect(severity('shared names')).toEqual(['ok']);
      expect(severity('leak probe')).toEqual(['ok', 'info']);
      expect(findings.filter((f) => f.severity === 'error')).toEqual([]);
    });
  });
});
