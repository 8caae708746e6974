/**
 * What `fn` throws; fails the test when it throws nothing.
 *
 * @example
 * ```ts
 * expect(thrown(() => tenancy.require())).toBeInstanceOf(NoTenantError);
 * ```
 */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected fn to throw');
}
