/**
 * The recipes of docs/observability.md, run as written: pino with the tenant on every line,
 * OpenTelemetry with `tenant.id` on the active span, prom-client counting queries per tenant with
 * a cap on label values.
 */
import diagnostics from 'node:diagnostics_channel';
import { Writable } from 'node:stream';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import pg from 'pg';
import pino from 'pino';
import { Counter, Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { channels, createTenancy, type QueryScopedEvent, type ScopeEnteredEvent } from '../src/index.js';
import { tenantPool } from '../src/pg/index.js';
import { useTestDatabase } from './helpers/database.js';
import { tenantsWithMarkers } from './pg/fixtures.js';

const db = useTestDatabase();
const cleanups: (() => void)[] = [];
afterAll(() => {
  for (const cleanup of cleanups) cleanup();
});

describe('observability recipes', () => {
  it('pino: the tenant on every log line', async () => {
    const tenancy = createTenancy({ tenants: [{ id: 'acme' }] });
    const lines: { tenant: string | null; msg: string }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()));
        done();
      },
    });
    // the recipe
    const logger = pino({ mixin: () => ({ tenant: tenancy.current()?.id ?? null }) }, sink);

    logger.info('starting');
    await tenancy.run('acme', async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      logger.info('in a request');
    });
    expect(lines.map(({ tenant, msg }) => [tenant, msg])).toEqual([
      [null, 'starting'],
      ['acme', 'in a request'],
    ]);
  });

  it('OpenTelemetry: tenant.id on the span active where a scope is entered', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const contextManager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(contextManager);
    trace.setGlobalTracerProvider(provider);
    // the recipe
    const onScope = ({ tenant }: ScopeEnteredEvent) => trace.getActiveSpan()?.setAttribute('tenant.id', tenant?.id ?? 'shared');
    diagnostics.subscribe(channels.scopeEntered, onScope as (message: unknown) => void);
    cleanups.push(() => {
      diagnostics.unsubscribe(channels.scopeEntered, onScope as (message: unknown) => void);
      trace.disable();
      context.disable();
    });

    const tenancy = createTenancy({ tenants: [{ id: 'acme' }, { id: 'globex' }] });
    const tracer = trace.getTracer('test');
    for (const id of ['acme', 'globex']) {
      await tracer.startActiveSpan(`GET /${id}`, async (span) => {
        await tenancy.run(id, () => undefined);
        span.end();
      });
    }
    await tracer.startActiveSpan('job', async (span) => {
      tenancy.runShared(() => undefined);
      span.end();
    });
    expect(exporter.getFinishedSpans().map((span) => [span.name, span.attributes['tenant.id']])).toEqual([
      ['GET /acme', 'acme'],
      ['GET /globex', 'globex'],
      ['job', 'shared'],
    ]);
  });

  it('prom-client: queries per tenant, with a cap on label values', async () => {
    const { tenancy, ids } = await tenantsWithMarkers(db.pool, 4);
    const registry = new Registry();
    // the recipe
    const queries = new Counter({ name: 'tenantry_queries_total', help: 'Queries by tenant', labelNames: ['tenant', 'scope_set'], registers: [registry] });
    const labelled = new Set<string>();
    const MAX_TENANT_LABELS = 3;
    const tenantLabel = (id: string | null): string => {
      if (id === null) return 'shared';
      if (labelled.has(id) || labelled.size < MAX_TENANT_LABELS) return labelled.add(id), id;
      return 'other';
    };
    const onQuery = ({ tenantId, setScope }: QueryScopedEvent) => queries.inc({ tenant: tenantLabel(tenantId), scope_set: String(setScope) });
    diagnostics.subscribe(channels.queryScoped, onQuery as (message: unknown) => void);
    cleanups.push(() => diagnostics.unsubscribe(channels.queryScoped, onQuery as (message: unknown) => void));

    const raw = new pg.Pool({ connectionString: db.url, max: 1 });
    try {
      const scoped = tenantPool(tenancy, raw);
      for (const id of ids) {
        await tenancy.run(id, async () => {
          await scoped.query('select 1');
          await scoped.query('select 1');
        });
      }
    } finally {
      await raw.end();
    }
    const values = (await queries.get()).values.map(({ labels, value }) => [labels.tenant, labels.scope_set, value]);
    expect(values.sort()).toEqual(
      [
        [ids[0], 'true', 1],
        [ids[0], 'false', 1],
        [ids[1], 'true', 1],
        [ids[1], 'false', 1],
        [ids[2], 'true', 1],
        [ids[2], 'false', 1],
        ['other', 'true', 1],
        ['other', 'false', 1],
      ].sort(),
    );
  });
});
