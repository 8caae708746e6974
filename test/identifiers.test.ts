import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  assertSchemaName,
  assertTenantId,
  defaultSchemaName,
  InvalidDomainError,
  InvalidSchemaNameError,
  InvalidTenantIdError,
  isValidTenantId,
  normalizeDomain,
  quoteIdent,
  schemaNameProblem,
  tenantIdProblem,
} from '../src/index.js';
import { useTestDatabase } from './helpers/database.js';

const RUNS = 10_000;
const DB_RUNS = 300;

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIGITS = '0123456789';
const LABEL_CHARS = `${LOWER}${DIGITS}-`;

/** The DNS-label rule, written out by hand (no regular expression shared with the code under test). */
function isDnsLabel(value: string): boolean {
  if (value.length < 1 || value.length > 63) return false;
  for (const char of value) if (!LABEL_CHARS.includes(char)) return false;
  return !value.startsWith('-') && !value.endsWith('-');
}

/** A safe schema name, written out by hand: ASCII a-z 0-9 _, no leading digit, ≤ 63 bytes, not reserved. */
function isSafeSchemaName(value: string): boolean {
  if (value.length === 0 || Buffer.byteLength(value, 'utf8') > 63) return false;
  for (const char of value) if (!`${LOWER}${DIGITS}_`.includes(char)) return false;
  if (DIGITS.includes(value[0]!)) return false;
  return value !== 'public' && value !== 'information_schema' && !value.startsWith('pg_');
}

/**
 * A reference parser of one PostgreSQL quoted identifier token: it starts and ends with `"`, an inner
 * `""` stands for one `"`, and a lone `"` inside would end the token early (so the rest would be SQL).
 * Returns the identifier, or `undefined` when the text is not exactly one quoted identifier.
 */
function parseQuotedIdentifier(sql: string): string | undefined {
  if (sql.length < 2 || !sql.startsWith('"') || !sql.endsWith('"')) return undefined;
  let name = '';
  const last = sql.length - 1;
  for (let i = 1; i < last; i += 1) {
    const char = sql[i]!;
    if (char !== '"') {
      name += char;
    } else if (i + 1 < last && sql[i + 1] === '"') {
      name += '"';
      i += 1;
    } else {
      return undefined;
    }
  }
  return name;
}

const attacks = [
  "x';DROP TABLE public.victim;--",
  'x";DROP TABLE public.victim;--',
  '";DROP TABLE public.victim;--',
  'a" ; DROP TABLE public.victim ; CREATE SCHEMA "b',
  'x"""; DROP TABLE public.victim; --',
  '"',
  '""',
  '"""',
  'a"b',
  '\\"; DROP TABLE public.victim; --',
  "'; DROP TABLE public.victim; --",
  '$$; DROP TABLE public.victim; $$',
  'U&"\\0041"',
  '/* ", DROP TABLE public.victim */',
  'x\n";DROP TABLE public.victim;--',
  ' acme ',
  'ACME',
  'tenant_Acme',
  'Ωmega',
  '💥"💥',
  'e\u0301',
  '\u202eacme',
];

const alnum = fc.constantFrom(...`${LOWER}${DIGITS}`);
const labelChar = fc.constantFrom(...LABEL_CHARS);

/** Valid tenant ids of every length from 1 to 63, hyphens anywhere but at the ends. */
const validId = fc.oneof(
  alnum,
  fc
    .tuple(alnum, fc.string({ unit: labelChar, maxLength: 61 }), alnum)
    .map(([first, middle, last]) => `${first}${middle}${last}`),
  // long ids (the derived schema name needs cutting and hashing)
  fc
    .tuple(alnum, fc.string({ unit: labelChar, minLength: 53, maxLength: 61 }), alnum)
    .map(([first, middle, last]) => `${first}${middle}${last}`),
);

/** Characters and fragments that have a meaning somewhere (SQL, shells, logs, Unicode folding). */
const nastyUnit = fc.constantFrom(
  'a', 'z', '0', '9', '-', '_', '.', 'A', 'Z', "'", '"', ';', '\0', ' ', '\t', '\n', '\r', '\\', '$', '/', '*',
  'é', 'İ', 'ß', 'K' /* Kelvin sign */, '\u200b', '\u00a0', '\ufeff', '\ud800', '\udfff', '💥', '--', '""',
  'DROP TABLE public.victim', 'pg_', 'public',
);

/** Fragments that can never appear in a valid id, wherever they are inserted. */
const breakingUnit = fc.constantFrom(
  '_', '.', 'A', 'Z', "'", '"', ';', '\0', ' ', '\t', '\n', '\r', '\\', '$', '/', '*',
  'é', 'İ', 'ß', 'K' /* Kelvin sign */, '\u200b', '\u00a0', '\ufeff', '\ud800', '\udfff', '💥',
  'DROP TABLE public.victim', 'pg_',
);

/** Any JavaScript string: lone surrogates included. */
const utf16String = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)) });

/** Strings close to valid ids: one edit away, too long, upper case, or with a hyphen at an end. */
const nearlyValidId = fc.oneof(
  fc.tuple(validId, fc.nat(), breakingUnit).map(([id, at, unit]) => {
    const cut = at % (id.length + 1);
    return id.slice(0, cut) + unit + id.slice(cut);
  }),
  validId.filter((id) => /[a-z]/.test(id)).map((id) => id.toUpperCase()),
  validId.map((id) => `-${id}`),
  validId.map((id) => `${id}-`),
  fc.string({ unit: labelChar, minLength: 64, maxLength: 80 }),
);

const anyString = fc.oneof(
  validId,
  nearlyValidId,
  fc.constantFrom(...attacks, '', '-', 'a-', '-a', 'a'.repeat(63), 'a'.repeat(64)),
  fc.string({ unit: nastyUnit, maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 70 }),
  fc.string({ unit: 'grapheme', maxLength: 70 }),
  utf16String,
);

const nonString = fc.oneof(
  fc.anything({ maxDepth: 2, withNullPrototype: true, withBoxedValues: true, withBigInt: true, withMap: true, withSet: true, withDate: true }),
  fc.constantFrom<unknown>(
    null,
    undefined,
    42,
    Number.NaN,
    -0,
    true,
    Symbol('acme'),
    10n,
    ['acme'],
    { id: 'acme' },
    { toString: () => 'acme' },
    Object.create(null),
    {
      toString() {
        throw new Error('toString exploded');
      },
    },
    () => 'acme',
    new Date(0),
  ),
).filter((value) => typeof value !== 'string');

/**
 * A plain assertion for the hot paths of the properties (10,000 runs each): much cheaper than
 * `expect`, and fast-check still reports the counterexample that broke it.
 */
function ensure(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

function expectInvalidTenantId(error: unknown): void {
  ensure(error instanceof InvalidTenantIdError, `expected an InvalidTenantIdError, got ${String(error)}`);
  ensure(error.code === 'TENANTRY_INVALID_TENANT_ID', `wrong code ${error.code}`);
  ensure(error.httpStatus === 400, `wrong httpStatus ${error.httpStatus}`);
  ensure(typeof error.reason === 'string' && error.reason.length > 0, 'empty reason');
  ensure(error.message.includes(error.reason), 'the message does not carry the reason');
}

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('tenant ids', () => {
  it('accepts exactly the DNS labels, for valid ids and arbitrary strings', () => {
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(anyString, (value) => {
        const valid = isDnsLabel(value);
        ensure(isValidTenantId(value) === valid, 'isValidTenantId disagrees with the DNS-label rule');
        ensure((tenantIdProblem(value) === undefined) === valid, 'tenantIdProblem disagrees with the DNS-label rule');
        const error = thrownBy(() => assertTenantId(value));
        if (valid) {
          ensure(error === undefined, `a valid id was refused: ${String(error)}`);
          accepted += 1;
        } else {
          expectInvalidTenantId(error);
          ensure((error as InvalidTenantIdError).reason === tenantIdProblem(value), 'reason differs from tenantIdProblem');
          refused += 1;
        }
      }),
      { numRuns: RUNS },
    );
    // the generators reach both sides of the rule
    expect(accepted).toBeGreaterThan(RUNS / 10);
    expect(refused).toBeGreaterThan(RUNS / 10);
  });

  it('generates only valid ids from the alphabet, of every length up to 63', () => {
    const lengths = new Set<number>();
    fc.assert(
      fc.property(validId, (id) => {
        lengths.add(id.length);
        ensure(isDnsLabel(id), 'the generator made an invalid id');
        ensure(thrownBy(() => assertTenantId(id)) === undefined, 'a valid id was refused');
      }),
      { numRuns: RUNS },
    );
    expect(lengths.has(1)).toBe(true);
    expect(lengths.has(63)).toBe(true);
  });

  it('refuses every near miss with a typed error and a reason', () => {
    fc.assert(
      fc.property(nearlyValidId, (value) => {
        ensure(!isValidTenantId(value), 'a near miss was accepted');
        expectInvalidTenantId(thrownBy(() => assertTenantId(value)));
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses non-string input (numbers, null, objects, even unprintable ones) with a typed error', () => {
    fc.assert(
      fc.property(nonString, (value) => {
        ensure(!isValidTenantId(value), 'a non-string was accepted');
        expectInvalidTenantId(thrownBy(() => assertTenantId(value)));
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses the classic attacks and look-alikes', () => {
    for (const value of [...attacks, '', '-', 'a-', '-a', 'Acme', 'acme_eu', 'acme.eu', 'a'.repeat(64), 'acme\n', 'acme\0']) {
      expectInvalidTenantId(thrownBy(() => assertTenantId(value)));
    }
    for (const value of ['a', '0', 'acme', 'acme-eu', 'a--b', '9lives', 'a'.repeat(63)]) {
      expect(() => assertTenantId(value)).not.toThrow();
    }
  });
});

describe('defaultSchemaName', () => {
  it('derives a safe schema name (≤ 63 bytes, never reserved) for every valid id', () => {
    fc.assert(
      fc.property(validId, fc.constantFrom('tenant_', 't_', 'app_tenant_'), (id, prefix) => {
        const name = defaultSchemaName(id, prefix);
        ensure(schemaNameProblem(name) === undefined, `schemaNameProblem refuses ${name}: ${schemaNameProblem(name)}`);
        ensure(thrownBy(() => assertSchemaName(name)) === undefined, `assertSchemaName refuses ${name}`);
        ensure(isSafeSchemaName(name), `${name} is not a safe schema name`);
        ensure(name.startsWith(prefix), `${name} lost its prefix`);
        if (prefix === 'tenant_') ensure(defaultSchemaName(id) === name, 'the default prefix is not tenant_');
      }),
      { numRuns: RUNS },
    );
  });

  it('keeps short names readable and cuts long ones with a hash', () => {
    expect(defaultSchemaName('acme')).toBe('tenant_acme');
    expect(defaultSchemaName('acme-eu')).toBe('tenant_acme_eu');
    expect(defaultSchemaName('acme', 't_')).toBe('t_acme');
    expect(defaultSchemaName('a'.repeat(55))).toBe(`tenant_${'a'.repeat(55)}`);
    const long = defaultSchemaName('a'.repeat(63));
    expect(Buffer.byteLength(long)).toBe(63);
    expect(long).toMatch(/^tenant_a+_[0-9a-f]{10}$/);
    expect(() => defaultSchemaName('Not-Valid')).toThrow(InvalidTenantIdError);
  });

  it('gives the id that spells out a long id’s cut name a name of its own', () => {
    const victim = `${'a'.repeat(45)}${'b'.repeat(18)}`;
    const victimSchema = defaultSchemaName(victim);
    expect(victimSchema).toMatch(/^tenant_a{45}_[0-9a-f]{10}$/);
    const squatter = victimSchema.slice('tenant_'.length).replaceAll('_', '-'); // 56 characters, a valid id
    expect(isValidTenantId(squatter)).toBe(true);
    expect(defaultSchemaName(squatter)).not.toBe(victimSchema);
    expect(Buffer.byteLength(defaultSchemaName('a'.repeat(56)))).toBe(63); // 'tenant_' + 56 = 63 bytes: cut
  });

  it('maps distinct ids to distinct names, also when long ids share their start', () => {
    const sharedStart = fc.string({ unit: labelChar, minLength: 50, maxLength: 50 }).map((s) => `a${s}`);
    const tail = fc.string({ unit: labelChar, minLength: 0, maxLength: 11 }).map((s) => `${s}z`);
    const similarIds = sharedStart.chain((start) => fc.uniqueArray(tail.map((end) => `${start}${end}`), { minLength: 2, maxLength: 16 }));
    fc.assert(
      fc.property(fc.uniqueArray(validId, { minLength: 2, maxLength: 12 }), similarIds, (ids, similar) => {
        const all = [...new Set([...ids, ...similar])];
        const names = new Set(all.map((id) => defaultSchemaName(id)));
        ensure(names.size === all.length, 'two ids share a schema name');
      }),
      { numRuns: RUNS },
    );
  });

  it('cannot be made to collide by choosing an id that spells out another id’s cut name', () => {
    const longId = fc
      .tuple(alnum, fc.string({ unit: labelChar, minLength: 54, maxLength: 61 }), alnum)
      .map(([first, middle, last]) => `${first}${middle}${last}`);
    fc.assert(
      fc.property(longId, fc.constantFrom('tenant_', 't_'), (id, prefix) => {
        const name = defaultSchemaName(id, prefix);
        // an attacker registers the id whose plain (uncut) name would equal the victim's cut name
        const spelled = name.slice(prefix.length).replaceAll('_', '-');
        fc.pre(isDnsLabel(spelled) && spelled !== id);
        ensure(defaultSchemaName(spelled, prefix) !== name, `${spelled} takes the schema name of ${id}: ${name}`);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('schema names', () => {
  it('refuses reserved names, > 63 bytes (counted in bytes), upper case and a leading digit', () => {
    const refused: Array<[unknown, RegExp]> = [
      ['public', /reserved/],
      ['information_schema', /reserved/],
      ['pg_catalog', /pg_/],
      ['pg_toast', /pg_/],
      ['pg_', /pg_/],
      ['pg_tenant_acme', /pg_/],
      ['a'.repeat(64), /63 bytes/],
      ['é'.repeat(32), /63 bytes/], // 32 characters, 64 bytes
      [`tenant_${'ä'.repeat(30)}`, /63 bytes/], // 37 characters, 67 bytes
      ['Tenant_acme', /a-z/],
      ['TENANT', /a-z/],
      ['1tenant', /digit/],
      ['9', /digit/],
      ['tenant-acme', /a-z/],
      ['tenant acme', /a-z/],
      ['tenant"acme', /a-z/],
      ['tenant_ä', /a-z/],
      ['', /empty/],
      [null, /null/],
      [42, /number/],
    ];
    for (const [name, reason] of refused) {
      expect(schemaNameProblem(name), String(name)).toMatch(reason);
      const error = thrownBy(() => assertSchemaName(name));
      expect(error).toBeInstanceOf(InvalidSchemaNameError);
      expect(error).toMatchObject({ code: 'TENANTRY_INVALID_SCHEMA_NAME', httpStatus: 500, reason: schemaNameProblem(name) });
    }
    for (const name of ['tenant_acme', '_private', 'a', 'a'.repeat(63), 'publicx', 'xpg_', 'pg', 'information_schema2']) {
      expect(schemaNameProblem(name), name).toBeUndefined();
      expect(() => assertSchemaName(name)).not.toThrow();
    }
  });

  it('accepts only safe names, for arbitrary strings', () => {
    const schemaLike = fc.string({ unit: fc.constantFrom(...`${LOWER}${DIGITS}_`, 'A', '-', 'é', '"'), maxLength: 70 });
    fc.assert(
      fc.property(fc.oneof(schemaLike, anyString), (name) => {
        ensure((schemaNameProblem(name) === undefined) === isSafeSchemaName(name), 'schemaNameProblem disagrees with the rule');
      }),
      { numRuns: RUNS },
    );
  });
});

describe('quoteIdent', () => {
  it('the reference parser itself tells one quoted identifier from a break-out', () => {
    expect(parseQuotedIdentifier('"a"')).toBe('a');
    expect(parseQuotedIdentifier('"a""b"')).toBe('a"b');
    expect(parseQuotedIdentifier('""""')).toBe('"');
    expect(parseQuotedIdentifier('"a"b"')).toBeUndefined();
    expect(parseQuotedIdentifier('"a""')).toBeUndefined();
    expect(parseQuotedIdentifier('"x";DROP TABLE t;--"')).toBeUndefined();
    expect(parseQuotedIdentifier('a')).toBeUndefined();
    expect(parseQuotedIdentifier('"')).toBeUndefined();
  });

  it('cannot be broken out of: the quoted text parses back to exactly the input', () => {
    const identifier = fc
      .oneof(
        fc.constantFrom(...attacks),
        fc.string({ unit: nastyUnit, minLength: 1, maxLength: 30 }),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 70 }),
        utf16String,
        anyString,
      )
      .filter((name) => name.length > 0 && !name.includes('\0'));
    fc.assert(
      fc.property(identifier, (name) => {
        const quoted = quoteIdent(name);
        ensure(parseQuotedIdentifier(quoted) === name, `${quoted} does not parse back to the input`);
      }),
      { numRuns: RUNS },
    );
  });

  it('refuses NUL, empty and non-string input with a typed error', () => {
    const withNul = fc
      .tuple(fc.string({ unit: nastyUnit, maxLength: 10 }), fc.string({ unit: nastyUnit, maxLength: 10 }))
      .map(([before, after]) => `${before}\0${after}`);
    fc.assert(
      fc.property(withNul, (name) => {
        const error = thrownBy(() => quoteIdent(name));
        ensure(error instanceof InvalidSchemaNameError && error.code === 'TENANTRY_INVALID_SCHEMA_NAME', `NUL not refused: ${String(error)}`);
      }),
      { numRuns: RUNS },
    );
    for (const value of ['', null, undefined, 42, {}, Object.create(null)]) {
      expect(() => quoteIdent(value as string)).toThrow(InvalidSchemaNameError);
    }
  });
});

describe('identifiers on a real PostgreSQL', () => {
  const db = useTestDatabase();
  let builtIn: Set<string>;

  beforeAll(async () => {
    await db.pool.query('CREATE TABLE public.victim (id int PRIMARY KEY); INSERT INTO public.victim VALUES (1), (2), (3)');
    const { rows } = await db.pool.query<{ nspname: string }>('SELECT nspname FROM pg_namespace');
    builtIn = new Set(rows.map((row) => row.nspname));
  });

  /**
   * Creates a schema with the quoted name over the simple query protocol (where several statements
   * would run, so a break-out would execute), checks the catalog holds exactly that one new name and
   * the sentinel table is untouched, then drops it again.
   */
  async function roundTrip(name: string): Promise<void> {
    const client = await db.pool.connect();
    let created = false;
    try {
      await client.query(`CREATE SCHEMA ${quoteIdent(name)}`);
      created = true;
      const { rows } = await client.query<{ nspname: string }>('SELECT nspname FROM pg_namespace');
      const added = rows.map((row) => row.nspname).filter((schema) => !builtIn.has(schema));
      expect(added).toEqual([name]);
      const victim = await client.query<{ rows: number }>(
        "SELECT CASE WHEN to_regclass('public.victim') IS NULL THEN -1 ELSE (SELECT count(*)::int FROM public.victim) END AS rows",
      );
      expect(victim.rows[0]?.rows).toBe(3);
    } finally {
      if (created) await client.query(`DROP SCHEMA ${quoteIdent(name)}`);
      client.release();
    }
  }

  it('creates the schema derived from any valid id under exactly that name', async () => {
    await fc.assert(
      fc.asyncProperty(validId, async (id) => {
        await roundTrip(defaultSchemaName(id));
      }),
      { numRuns: DB_RUNS },
    );
  });

  it('creates a schema named by any adversarial string, quoted, and nothing else happens', async () => {
    const creatable = (name: string) =>
      name.length > 0 &&
      !name.includes('\0') &&
      !/\p{Cs}/u.test(name) && // lone surrogates cannot be encoded as UTF-8
      Buffer.byteLength(name) <= 63 && // PostgreSQL would cut a longer identifier
      !name.startsWith('pg_') &&
      !builtIn.has(name);
    const adversarial = fc
      .oneof(
        fc.constantFrom(...attacks),
        fc.string({ unit: nastyUnit, minLength: 1, maxLength: 12 }),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }),
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
      )
      .filter(creatable);
    for (const attack of attacks.filter(creatable)) await roundTrip(attack);
    await fc.assert(
      fc.asyncProperty(adversarial, async (name) => {
        await roundTrip(name);
      }),
      { numRuns: DB_RUNS },
    );
  });
});

describe('normalizeDomain', () => {
  const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

  function expectInvalidDomain(value: unknown): void {
    const error = thrownBy(() => normalizeDomain(value));
    expect(error, JSON.stringify(value)).toBeInstanceOf(InvalidDomainError);
    expect(error).toMatchObject({ code: 'TENANTRY_INVALID_DOMAIN', httpStatus: 400 });
    expect((error as InvalidDomainError).reason.length).toBeGreaterThan(0);
  }

  it('lower-cases and drops one trailing dot', () => {
    expect(normalizeDomain('Shop.Acme.COM.')).toBe('shop.acme.com');
    expect(normalizeDomain('ACME.example.com')).toBe('acme.example.com');
    expect(normalizeDomain('xn--bcher-kva.example')).toBe('xn--bcher-kva.example');
    expect(normalizeDomain('localhost')).toBe('localhost');
    expect(normalizeDomain(`${'a'.repeat(63)}.com`)).toBe(`${'a'.repeat(63)}.com`);
    expect(normalizeDomain(`${'abcdefghi.'.repeat(25)}COM.`)).toBe(`${'abcdefghi.'.repeat(25)}com`); // 253 characters
  });

  it('refuses ports, paths, spaces, empty labels and other non-host names with HTTP 400', () => {
    for (const value of [
      'acme.com:8080',
      'acme.com/path',
      'https://acme.com',
      'acme .com',
      'ac me.com',
      'acme.com\nx-evil: 1',
      '',
      ' ',
      '.',
      '..',
      '.acme.com',
      'acme..com',
      'acme.com..',
      '-acme.com',
      'acme-.com',
      'acme_eu.com',
      'user@acme.com',
      'bücher.example',
      '*.acme.com',
      `${'a'.repeat(64)}.com`,
      `${'abcdefghi.'.repeat(25)}comx`, // 254 characters
      null,
      42,
      {},
      Object.create(null),
    ]) {
      expectInvalidDomain(value);
    }
  });

  it('accepts every generated host name in any case, returning it lower-cased', () => {
    const anyCase = fc
      .tuple(fc.domain(), fc.infiniteStream(fc.boolean()), fc.boolean())
      .map(([domain, upper, dot]) => {
        const iterator = upper[Symbol.iterator]();
        const mixed = [...domain].map((char) => (iterator.next().value ? char.toUpperCase() : char)).join('');
        return { domain, input: dot ? `${mixed}.` : mixed };
      });
    fc.assert(
      fc.property(anyCase, ({ domain, input }) => {
        ensure(normalizeDomain(input) === domain.toLowerCase(), `${input} is not normalised to ${domain}`);
      }),
      { numRuns: RUNS },
    );
  });

  it('only ever returns lower-case labels, and is idempotent', () => {
    const hostLike = fc.string({ unit: fc.constantFrom('a', 'B', '0', '-', '.', ':', '/', ' ', '_', 'é', 'K', 'İ', 'xn--'), maxLength: 30 });
    let accepted = 0;
    fc.assert(
      fc.property(fc.oneof(hostLike, anyString, fc.domain()), (value) => {
        const error = thrownBy(() => normalizeDomain(value));
        if (error !== undefined) {
          ensure(
            error instanceof InvalidDomainError && error.code === 'TENANTRY_INVALID_DOMAIN' && error.httpStatus === 400,
            `not an InvalidDomainError: ${String(error)}`,
          );
          return;
        }
        accepted += 1;
        const name = normalizeDomain(value);
        ensure(name.length <= 253, 'longer than 253');
        for (const label of name.split('.')) ensure(LABEL.test(label), `bad label ${JSON.stringify(label)}`);
        ensure(name === name.toLowerCase(), 'not lower case');
        ensure(normalizeDomain(name) === name, 'not idempotent');
      }),
      { numRuns: RUNS },
    );
    expect(accepted).toBeGreaterThan(RUNS / 10);
  });
});
