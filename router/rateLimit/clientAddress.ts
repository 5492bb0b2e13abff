/**
 * The address a request came from, for partitioning anonymous callers. With no trusted proxies the
 * socket's peer is the client (X-Forwarded-For is the client's to forge); with N trusted proxies in
 * front, each appends the address it received from, so the client is the N-th entry from the right
 * of the chain "X-Forwarded-For, socket peer". IPv4-mapped IPv6 is folded to plain IPv4.
 */
export function clientAddress(socketAddress: string | undefined, forwardedFor: string | null, trustedProxyHops = 0): string | undefined {
  if (trustedProxyHops <= 0 || !forwardedFor) return normalise(socketAddress);
  const chain = [...forwardedFor.split(',').map((part) => part.trim()).filter(Boolean), socketAddress ?? ''];
  return normalise(chain[Math.max(0, chain.length - 1 - trustedProxyHops)]);
}

function normalise(address: string | undefined): string | undefined {
  if (!address) return undefined;
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** The client address of a request's yoga context (node:http adapter), as clientAddress reads it, or "unknown". */
export function addressOf(context: unknown, trustedProxyHops = 0): string {
  const { req, request } = (context ?? {}) as { req?: { socket?: { remoteAddress?: string } }; request?: Request };
  return clientAddress(req?.socket?.remoteAddress, request?.headers.get('x-forwarded-for') ?? null, trustedProxyHops) ?? 'unknown';
}
