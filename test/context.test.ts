import { EventEmitter, EventEmitterAsyncResource, once } from 'node:events';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTenancy,
  InvalidSchemaNameError,
  InvalidTenantIdError,
  NoTenantError,
  type Tenancy,
  type Tenant,
  TenantNotFoundError,
  TenantSuspendedError,
} from '../src/index.js';
import { thrown } from './helpers/thrown.js';

const TENANTS = 50;
const TASKS = 1_000;
const ids = Array.from({ length: TENANTS }, (_, i) => `tenant-${i}`);

/** A small seeded generator, so a failing interleaving can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NONE = '<none>';

describe('tenant context', () => {
  let tenancy: Tenancy;
  const seen = (): string => tenancy.current()?.id ?? NONE;

  beforeAll(() => {
    tenancy = createTenancy({ registry: 'memory', tenants: ids.map((id) => ({ id, name: `Tenant ${id}` })) });
  });

  describe('1,000 interleaved tasks over 50 tenants', () => {
    // Created outside any run: listeners registered inside runs, emits from other tenants and from outside.
    const shared = new EventEmitter();
    shared.setMaxListeners(0);
    const pending: Array<() => void> = [];
    // emits waiting for another task to fire them from its own run
    const crossEmits: Array<{ emit: () => void; tenant: string; at: number }> = [];
    let dispatcher: NodeJS.Timeout | undefined;

    beforeAll(() => {
      // a timer that belongs to no tenant fires the queued emits, and the cross emits nobody took
      dispatcher = setInterval(() => {
        for (const emit of pending.splice(0)) emit();
        while (crossEmits.length > 0 && crossEmits[0]!.at < Date.now() - 20) crossEmits.shift()!.emit();
      }, 1);
    });
    afterAll(() => clearInterval(dispatcher));

    it('each task sees only its own tenant through timers, promises, emitters and streams', async () => {
      const random = seededRandom(0x7e4a47);
      const delay = () => Math.floor(random() * 4);
      const timeline: string[] = [];
      const logs = new Map<number, Array<[step: string, tenant: string]>>();

      const task = async (index: number, expected: string): Promise<void> => {
        const log: Array<[string, string]> = [];
        logs.set(index, log);
        const mark = (step: string) => {
          const tenant = seen();
          log.push([step, tenant]);
          timeline.push(expected);
        };
        mark('start');

        // timers
        await sleep(delay());
        mark('setTimeout(promise)');
        await new Promise<void>((resolve) => setTimeout(() => (mark('setTimeout(callback)'), resolve()), delay()));
        await new Promise<void>((resolve) => setImmediate(() => (mark('setImmediate'), resolve())));
        await new Promise<void>((resolve) => process.nextTick(() => (mark('nextTick'), resolve())));
        await new Promise<void>((resolve) => queueMicrotask(() => (mark('queueMicrotask'), resolve())));

        // promise chains
        await Promise.resolve()
          .then(() => mark('then'))
          .then(() => sleep(delay()))
          .then(() => mark('then after sleep'))
          .finally(() => mark('finally'));
        await Promise.all([sleep(delay()).then(() => mark('Promise.all')), Promise.reject(new Error('x')).catch(() => mark('catch'))]);

        // the shared emitter: a bound listener, emitted from another task's run or from the outside timer
        const event = `ping:${index}`;
        const heard = new Promise<void>((resolve) => {
          shared.once(
            event,
            tenancy.bind(() => {
              mark('shared emitter, bound listener');
              resolve();
            }),
          );
        });
        const emit = () => shared.emit(event);
        // emit another task's event from this tenant's run (their bound listener must not see us)
        const other = crossEmits.shift();
        if (other !== undefined) {
          if (other.tenant !== expected) crossTenantEmits += 1;
          other.emit();
        }
        if (random() < 0.2) pending.push(emit);
        else crossEmits.push({ emit, tenant: expected, at: Date.now() });
        await heard;
        mark('after shared emitter');

        // once() on the shared emitter: the await resumes in this task's context
        const waited = once(shared, `done:${index}`);
        pending.push(() => shared.emit(`done:${index}`));
        await waited;
        mark('after events.once');

        // an emitter created inside the run, emitted from inside after a timer
        const local = new EventEmitter();
        local.on('data', () => mark('local emitter'));
        await sleep(delay());
        local.emit('data');

        // an EventEmitterAsyncResource created inside the run carries the run to the outside timer's emit
        const resource = new EventEmitterAsyncResource({ name: 'tenant-test' });
        const fromOutside = new Promise<void>((resolve) =>
          resource.on('data', () => {
            mark('EventEmitterAsyncResource');
            resolve();
          }),
        );
        pending.push(() => resource.emit('data'));
        await fromOutside;
        resource.emitDestroy();

        // streams: an async generator source, a Transform with timer callbacks, a Writable sink
        const received: number[] = [];
        await pipeline(
          Readable.from(
            (async function* source() {
              for (let chunk = 0; chunk < 3; chunk += 1) {
                await sleep(delay());
                mark('Readable.from generator');
                yield chunk;
              }
            })(),
          ),
          new Transform({
            objectMode: true,
            transform(chunk: number, _encoding, callback) {
              mark('Transform.transform');
              setTimeout(() => callback(null, chunk * 2), delay());
            },
            flush(callback) {
              mark('Transform.flush');
              setImmediate(callback);
            },
          }),
          new Writable({
            objectMode: true,
            write(chunk: number, _encoding, callback) {
              mark('Writable.write');
              received.push(chunk);
              setImmediate(callback);
            },
            final(callback) {
              mark('Writable.final');
              callback();
            },
          }),
        );
        expect(received).toEqual([0, 2, 4]);

        // a push-based Readable fed from timers, piped through a Transform
        const pushed = new Readable({ objectMode: true, read() {} });
        const collected: string[] = [];
        const done = pipeline(
          pushed,
          new Transform({
            objectMode: true,
            transform(chunk: string, _encoding, callback) {
              mark('pushed Transform');
              callback(null, chunk);
            },
          }),
          async function sink(source: AsyncIterable<string>) {
            for await (const chunk of source) {
              mark('async sink');
              collected.push(chunk);
            }
          },
        );
        setTimeout(() => {
          pushed.push('a');
          setImmediate(() => (pushed.push('b'), pushed.push(null)));
        }, delay());
        await done;
        expect(collected).toEqual(['a', 'b']);
        mark('end');
      };

      let crossTenantEmits = 0;
      const order = Array.from({ length: TASKS }, (_, index) => index).sort(() => random() - 0.5);
      expect(seen()).toBe(NONE);
      await Promise.all(order.map((index) => tenancy.run(ids[index % TENANTS]!, () => task(index, ids[index % TENANTS]!))));
      expect(crossEmits).toEqual([]);
      // most bound listeners were fired from another tenant's run
      expect(crossTenantEmits).toBeGreaterThan(TASKS / 2);
      expect(seen()).toBe(NONE);

      const steps = [
        'start',
        'setTimeout(promise)',
        'setTimeout(callback)',
        'setImmediate',
        'nextTick',
        'queueMicrotask',
        'then',
        'then after sleep',
        'finally',
        'Promise.all',
        'catch',
        'shared emitter, bound listener',
        'after shared emitter',
        'after events.once',
        'local emitter',
        'EventEmitterAsyncResource',
        'Readable.from generator',
        'Transform.transform',
        'Transform.flush',
        'Writable.write',
        'Writable.final',
        'pushed Transform',
        'async sink',
        'end',
      ];
      expect(logs.size).toBe(TASKS);
      const wrong: string[] = [];
      for (const [index, log] of logs) {
        const expected = ids[index % TENANTS]!;
        expect(new Set(log.map(([step]) => step))).toEqual(new Set(steps));
        for (const [step, tenant] of log) if (tenant !== expected) wrong.push(`task ${index} (${expected}) saw ${tenant} at ${step}`);
      }
      expect(wrong.slice(0, 20)).toEqual([]);

      // the tasks really interleaved: the timeline switches tenant many times
      let switches = 0;
      for (let i = 1; i < timeline.length; i += 1) if (timeline[i] !== timeline[i - 1]) switches += 1;
      expect(switches).toBeGreaterThan(TASKS * 5);
    });

    it('an unbound listener on a shared emitter runs in the emitter’s context (why bind exists)', async () => {
      let heard: string | undefined;
      await tenancy.run('tenant-1', () => {
        shared.once('unbound', () => {
          heard = seen();
        });
      });
      await tenancy.run('tenant-2', () => shared.emit('unbound'));
      // the harness above would have flagged this: the listener saw the emitting tenant
      expect(heard).toBe('tenant-2');
    });
  });

  describe('nesting and scopes', () => {
    it('current() is undefined and require() throws NoTenantError outside any run', () => {
      expect(tenancy.current()).toBeUndefined();
      expect(tenancy.scope()).toBeUndefined();
      const error = thrown(() => tenancy.require());
      expect(error).toBeInstanceOf(NoTenantError);
      expect(error).toMatchObject({ code: 'TENANTRY_NO_TENANT', httpStatus: 500 });
    });

    it('nested runs see the inner tenant and restore the outer one, also after the inner throws', async () => {
      const boom = new Error('inner failed');
      await tenancy.run('tenant-1', async () => {
        expect(seen()).toBe('tenant-1');
        expect(await tenancy.run('tenant-2', async () => (await sleep(1), seen()))).toBe('tenant-2');
        expect(seen()).toBe('tenant-1');
        await expect(
          tenancy.run('tenant-3', async () => {
            await sleep(1);
            expect(seen()).toBe('tenant-3');
            throw boom;
          }),
        ).rejects.toBe(boom);
        expect(seen()).toBe('tenant-1');
        await expect(
          tenancy.run('tenant-4', () => {
            throw boom;
          }),
        ).rejects.toBe(boom);
        expect(seen()).toBe('tenant-1');
        await sleep(1);
        expect(seen()).toBe('tenant-1');
      });
      expect(tenancy.current()).toBeUndefined();
    });

    it('an inner run started without awaiting it does not change the outer run', async () => {
      await tenancy.run('tenant-1', async () => {
        const inner = tenancy.run('tenant-2', async () => {
          await sleep(2);
          return seen();
        });
        expect(seen()).toBe('tenant-1');
        await sleep(1);
        expect(seen()).toBe('tenant-1');
        expect(await inner).toBe('tenant-2');
        expect(seen()).toBe('tenant-1');
      });
    });

    it('runShared is the shared scope: no tenant, require() throws, and the outer tenant comes back', async () => {
      await tenancy.run('tenant-1', async () => {
        const result = tenancy.runShared(() => {
          expect(tenancy.scope()).toEqual({ kind: 'shared' });
          expect(tenancy.current()).toBeUndefined();
          expect(() => tenancy.require()).toThrow(NoTenantError);
          return 'shared result';
        });
        expect(result).toBe('shared result');
        expect(tenancy.scope()).toMatchObject({ kind: 'tenant', tenant: { id: 'tenant-1' } });
        await tenancy.runShared(async () => {
          await sleep(1);
          expect(tenancy.scope()).toEqual({ kind: 'shared' });
          expect(thrown(() => tenancy.require())).toMatchObject({ code: 'TENANTRY_NO_TENANT', httpStatus: 500 });
          await tenancy.run('tenant-2', async () => {
            await sleep(1);
            expect(tenancy.scope()).toMatchObject({ kind: 'tenant', tenant: { id: 'tenant-2' } });
          });
          expect(tenancy.scope()).toEqual({ kind: 'shared' });
        });
        expect(seen()).toBe('tenant-1');
      });
      expect(tenancy.scope()).toBeUndefined();
    });
  });

  describe('bind', () => {
    it('a callback bound in a run sees its tenant wherever it is called from', async () => {
      const calls: string[] = [];
      const bound = await tenancy.run('tenant-7', () => tenancy.bind((label: string) => calls.push(`${label}:${seen()}`)));
      bound('outside');
      await tenancy.run('tenant-8', async () => {
        await new Promise<void>((resolve) => setTimeout(() => (bound('timeout in tenant-8'), resolve()), 1));
        bound('directly in tenant-8');
        expect(seen()).toBe('tenant-8');
      });
      tenancy.runShared(() => bound('shared'));
      const emitter = new EventEmitter();
      emitter.on('go', bound);
      await tenancy.run('tenant-9', () => emitter.emit('go', 'emitter in tenant-9'));
      expect(calls).toEqual([
        'outside:tenant-7',
        'timeout in tenant-8:tenant-7',
        'directly in tenant-8:tenant-7',
        'shared:tenant-7',
        'emitter in tenant-9:tenant-7',
      ]);
    });

    it('a callback bound outside any run sees no tenant, even when called inside a run', async () => {
      const bound = tenancy.bind(() => [tenancy.current(), tenancy.scope()] as const);
      await tenancy.run('tenant-3', () => {
        expect(bound()).toEqual([undefined, undefined]);
        expect(() => tenancy.bind(() => tenancy.require())()).not.toThrow();
      });
      const boundRequire = tenancy.bind(() => tenancy.require());
      await tenancy.run('tenant-3', () => {
        expect(() => boundRequire()).toThrow(NoTenantError);
      });
    });

    it('a callback bound in runShared keeps the shared scope', async () => {
      const bound = tenancy.runShared(() => tenancy.bind(() => tenancy.scope()));
      await tenancy.run('tenant-4', () => {
        expect(bound()).toEqual({ kind: 'shared' });
      });
    });

    it('keeps this, arguments and the return value', async () => {
      const target = {
        factor: 3,
        times(this: { factor: number }, value: number) {
          return `${seen()}:${this.factor * value}`;
        },
      };
      const bound = await tenancy.run('tenant-5', () => tenancy.bind(target.times));
      expect(bound.call(target, 7)).toBe('tenant-5:21');
    });
  });

  describe('run', () => {
    it('returns what fn returns, sync or async', async () => {
      expect(await tenancy.run('tenant-1', () => 42)).toBe(42);
      expect(await tenancy.run('tenant-1', async () => (await sleep(1), { id: seen() }))).toEqual({ id: 'tenant-1' });
      const value = { big: 'object' };
      expect(await tenancy.run('tenant-1', () => value)).toBe(value);
    });

    it('lets errors thrown inside propagate unchanged', async () => {
      const error = new TypeError('app bug');
      await expect(tenancy.run('tenant-1', () => {
        throw error;
      })).rejects.toBe(error);
      await expect(tenancy.run('tenant-1', async () => {
        await sleep(1);
        throw error;
      })).rejects.toBe(error);
      const notAnError = { reason: 'plain object' };
      await expect(tenancy.run('tenant-1', () => Promise.reject(notAnError))).rejects.toBe(notAnError);
    });

    it('takes a Tenant object and makes exactly it current', async () => {
      const tenant = (await tenancy.registry.get('tenant-12'))!;
      expect(await tenancy.run(tenant, () => tenancy.current())).toBe(tenant);
    });

    it('starts fn before returning when given a Tenant object, and reports refusals only through the promise', async () => {
      const tenant = (await tenancy.registry.get('tenant-3'))!;
      let seenInside: string | undefined;
      const running = tenancy.run(tenant, () => {
        seenInside = seen();
      });
      expect(seenInside).toBe('tenant-3');
      await running;
      let refusal: Promise<unknown> | undefined;
      expect(() => (refusal = tenancy.run('Not Valid', () => 1))).not.toThrow();
      await expect(refusal).rejects.toBeInstanceOf(InvalidTenantIdError);
    });

    it('refuses unknown, invalid and suspended tenants before calling fn', async () => {
      const local = createTenancy({ registry: 'memory', tenants: [{ id: 'acme' }, { id: 'frozen' }] });
      const frozen = await local.registry.suspend('frozen');
      let called = 0;
      const fn = () => {
        called += 1;
      };

      const unknown = local.run('ghost', fn);
      await expect(unknown).rejects.toBeInstanceOf(TenantNotFoundError);
      await expect(unknown).rejects.toMatchObject({ code: 'TENANTRY_TENANT_NOT_FOUND', httpStatus: 404, tenantId: 'ghost' });

      for (const bad of ['Acme', 'acme_eu', '', "x';DROP TABLE public.victim;--", 'a'.repeat(64)]) {
        const invalid = local.run(bad, fn);
        await expect(invalid).rejects.toBeInstanceOf(InvalidTenantIdError);
        await expect(invalid).rejects.toMatchObject({ code: 'TENANTRY_INVALID_TENANT_ID', httpStatus: 400 });
      }

      for (const suspended of ['frozen', frozen] as const) {
        const refused = local.run(suspended, fn);
        await expect(refused).rejects.toBeInstanceOf(TenantSuspendedError);
        await expect(refused).rejects.toMatchObject({ code: 'TENANTRY_TENANT_SUSPENDED', httpStatus: 403, tenantId: 'frozen' });
      }

      // a hand-made Tenant object is checked too: fail closed rather than run in a reserved schema
      const acme = (await local.registry.get('acme'))!;
      const forged: Tenant = { ...acme, schema: 'public' };
      await expect(local.run(forged, fn)).rejects.toBeInstanceOf(InvalidSchemaNameError);
      await expect(local.run({ ...acme, id: 'Not Valid' }, fn)).rejects.toBeInstanceOf(InvalidTenantIdError);

      expect(called).toBe(0);
      expect(await local.run('acme', () => (fn(), local.current()?.id))).toBe('acme');
      expect(called).toBe(1);
    });
  });
});
