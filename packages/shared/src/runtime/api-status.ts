// What an API call failed with. @kubernetes/client-node throws an ApiException whose
// `code` is the HTTP status; other failures (a refused connection, a timeout) carry
// none. Callers ask these instead of casting the error.

/** The HTTP status of a failed API call, or undefined when it never got one. */
export function apiStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' && code >= 100 && code <= 599 ? code : undefined;
}

/** 409: a write carried a stale resourceVersion, or a create met an existing object. */
export function isConflict(err: unknown): boolean {
  return apiStatus(err) === 409;
}

/** 404: the object (or the API group) does not exist. */
export function isNotFound(err: unknown): boolean {
  return apiStatus(err) === 404;
}
