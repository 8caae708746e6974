/**
 * Type augmentation of Fastify for tenantry's plugin.
 *
 * @module
 */
import type { Tenant } from '../types.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's tenant, or `null` in the shared scope (set by tenantry's plugin). */
    tenant: Tenant | null;
  }
  interface FastifyContextConfig {
    /**
     * Per-route tenancy: `false` for a public route (no tenant is resolved; the handler runs in
     * the shared scope), `'optional'` to serve requests that name no tenant in the shared scope.
     */
    tenancy?: false | 'optional';
  }
}
