// Kubernetes MicroTime (metav1.MicroTime: Lease spec.acquireTime/renewTime, Event
// eventTime). The apiserver parses it with the Go layout "2006-01-02T15:04:05.000000Z07:00":
// exactly six fractional digits. Date#toISOString() gives three (".742Z"), and a Lease
// written with it is refused with 400 BadRequest ("cannot parse \".742Z\" as \".000000\"").
// A JavaScript Date holds milliseconds, so the last three digits are always 0.

const ISO_MILLIS = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z$/;

/** `date` as a MicroTime: UTC, exactly six fractional digits, e.g. 2026-12-02T08:48:27.742000Z. */
export function microTime(date: Date): string {
  // Invalid dates throw here (RangeError); years outside 0000-9999 have no RFC 3339 form.
  const m = ISO_MILLIS.exec(date.toISOString());
  if (m === null) throw new RangeError(`${date.toISOString()} has no RFC 3339 form`);
  return `${m[1]}000Z`;
}
