import { createTenancy, type ResolverContext, type TenantRequest } from '../../src/index.js';

/** A framework-neutral request, as the adapters build it. */
export function requestOf(fields: { host?: string; path?: string; headers?: TenantRequest['headers']; method?: string } = {}): TenantRequest {
  return { host: fields.host, path: fields.path ?? '/', method: fields.method ?? 'GET', headers: fields.headers ?? {} };
}

/** A resolver context on an empty in-memory tenancy (enough for resolvers that do not look anything up). */
export function contextOf(tenancy = createTenancy({ tenants: [] })): ResolverContext {
  return { tenancy };
}

/** What a resolver throws, or `undefined` when it does not throw. */
export async function thrown(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
    return undefined;
  } catch (error) {
    return error;
  }
}
