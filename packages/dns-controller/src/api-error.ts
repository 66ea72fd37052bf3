// API errors in one line. client-node's ApiException carries the HTTP status as `code`
// and the server's Status as `body` (parsed or as text); its message is a dump of the
// status line, body and headers, fit for no log line and no terminal.

/** The HTTP status of a failed API call, undefined for anything else (network errors). */
export function apiStatusCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
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

/** e.g. `HTTP 409 Conflict: Operation cannot be fulfilled on configmaps "coredns": ...`. */
export function describeApiError(err: unknown): string {
  const code = apiStatusCode(err);
  if (code === undefined) return err instanceof Error ? err.message : String(err);
  const { reason, message } = statusBody(err);
  return [
    `HTTP ${code}`,
    typeof reason === 'string' && reason !== '' ? ` ${reason}` : '',
    typeof message === 'string' && message !== '' ? `: ${message}` : '',
  ].join('');
}
