/** A request target the server can serve: origin-form `path` and the authority it was sent to. */
export type RequestTarget = { ok: true; path: string; host?: string } | { ok: false; message: string };

/** reg-name (letters, digits, `-._~`) or an IP literal in brackets, then an optional port. */
const AUTHORITY = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~-]+)(?::(\d{0,5}))?$/;

function isValidAuthority(authority: string): boolean {
  const match = AUTHORITY.exec(authority);
  if (!match) return false;
  if (match[1] && Number(match[1]) > 65535) return false;
  try {
    // What the URL parser refuses (999.1.1.1, [::1::2]) is refused here rather than deep inside yoga.
    new URL(`http://${authority}/`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Reads an HTTP/1.1 request target and Host header the way RFC 9112 §3.2 says, before anything builds
 * a URL from them (graphql-yoga's adapter concatenates `http://` + Host + target, and an absolute
 * target or a Host such as `a b`, `[::1` or `x:99999` made `new URL` throw a 500 with a stack):
 * - origin-form (`/graphql?x`) is served as is, under a valid Host (none at all is HTTP/1.0's right);
 * - absolute-form (`http://host:4000/graphql`, what proxies send) is accepted: its authority replaces
 *   the Host header, as §3.2.2 requires, and its path is served;
 * - more than one Host, an invalid one, userinfo in the target, and the asterisk and authority
 *   forms (`OPTIONS *`, `CONNECT`) are refused.
 * A Host is also refused when it would change the URL's shape (`evil/graphql?`), so the path a
 * plugin sees is always the one on the request line.
 */
export function readRequestTarget(target: string, hostHeaders: readonly string[]): RequestTarget {
  if (hostHeaders.length > 1) return { ok: false, message: 'More than one Host header.' };
  const host = hostHeaders[0];
  if (target.startsWith('/')) {
    if (host !== undefined && !isValidAuthority(host)) return { ok: false, message: 'Invalid Host header.' };
    return parses(target, host) ? { ok: true, path: target, host } : { ok: false, message: 'Invalid request target.' };
  }
  if (/^https?:\/\//i.test(target)) {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      return { ok: false, message: 'Invalid request target.' };
    }
    if (url.username || url.password) return { ok: false, message: 'A request target must not carry userinfo.' };
    if (!isValidAuthority(url.host)) return { ok: false, message: 'Invalid request target.' };
    return { ok: true, path: `${url.pathname}${url.search}`, host: url.host };
  }
  return { ok: false, message: 'Invalid request target: send a path (or an absolute http URL).' };
}

function parses(path: string, host: string | undefined): boolean {
  try {
    // The way the HTTP adapter builds it: a path of `//x` stays a path, not an authority.
    new URL(`http://${host || 'localhost'}${path}`);
    return true;
  } catch {
    return false;
  }
}
