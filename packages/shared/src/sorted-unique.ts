// [...new Set(values)].sort(), without the Set or the sort when the values come strictly
// ascending already (as the controller's host lists do: at 20,000 hosts hashing and sorting
// them was several milliseconds of every edit). Same result: a strictly ascending array of
// strings is unique and is what sort() gives.
export function sortedUnique(values: Iterable<string>): string[] {
  const out = Array.isArray(values) ? (values as string[]).slice() : [...values];
  for (let i = 1; i < out.length; i++) {
    if (out[i - 1]! >= out[i]!) return [...new Set(out)].sort();
  }
  return out;
}
