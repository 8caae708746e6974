export type { TenantRequest, TenantMatch, TenantResolver, ResolverContext } from './resolver.js';
export { subdomainResolver } from './subdomain-resolver.js';
export type { SubdomainResolverOptions } from './subdomain-resolver.js';
export { domainResolver } from './domain-resolver.js';
export { pathResolver } from './path-resolver.js';
export type { PathResolverOptions } from './path-resolver.js';
export { headerResolver } from './header-resolver.js';
export type { HeaderResolverOptions } from './header-resolver.js';
export { chainResolvers } from './chain-resolvers.js';
