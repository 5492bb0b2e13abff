import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let offset = POOL_BYTES;

/**
 * `bytes` random bytes as hex, from a pool refilled 4 KiB at a time: trace and span ids are made on
 * every request, and a `randomBytes` call each (a buffer and a trip into OpenSSL) was 4% of the
 * router's CPU per request (bench/routerCost.ts profile). Ids, not secrets: never use it for keys.
 */
export function randomHex(bytes: number): string {
  if (offset + bytes > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return hex;
}
