/**
 * Headers every answer carries (OWASP REST Security Cheat Sheet): no MIME sniffing, no caching of
 * answers that hold stock and orders, no framing, no referrer, and a content policy that lets a
 * JSON answer load nothing. The docs UI replaces the content policy on its own pages.
 */
export const securityHeaders: Readonly<Record<string, string>> = Object.freeze({
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
});
