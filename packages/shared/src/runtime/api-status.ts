// What an API call failed with. @kubernetes/client-node throws an ApiException whose
// `code` is the HTTP status and whose `body` is the server's Status (parsed or as text);
// other failures (a refused connection, a timeout) carry no status. Its message is a dump
// of the status line, body and headers, fit for no log line and no terminal: callers ask
// these instead of casting the error or printing it.

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

function statusBody(err: unknown): { reason?: unknown; message?: unknown } {
  let body = (err as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body) as unknown;
    } catch {
      return { message: (body as string).trim().slice(0, 200) };
    }
  }
  return typeof body === 'object' && body !== null ? body : {};
}

/** One line, e.g. `HTTP 409 Conflict: Operation cannot be fulfilled on configmaps "coredns": ...`. */
export function describeApiError(err: unknown): string {
  const code = apiStatus(err);
  if (code === undefined) return err instanceof Error ? err.message : String(err);
  const { reason, message } = statusBody(err);
  return [
    `HTTP ${code}`,
    typeof reason === 'string' && reason !== '' ? ` ${reason}` : '',
    typeof message === 'string' && message !== '' ? `: ${message}` : '',
  ].join('');
}
