// One implementation for tests, benchmarks and the product: ops/net.ts.
export { freePort } from '../../ops/net.ts';
