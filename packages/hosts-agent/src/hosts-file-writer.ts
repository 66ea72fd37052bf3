// Writing the node's hosts file in place.
//
// The file is a single-file bind mount from the node (hostPath /etc/hosts), and renaming
// over a bind-mounted file fails with EBUSY, so the usual write-temp-then-rename cannot
// be used. Instead, with the file open once:
//   1. read it; if it already holds the wanted bytes, do nothing;
//   2. write only the bytes from the first difference on, at their offset, with one
//      positional write (hairpin's lines are at the end and the rest of the file is
//      unchanged, so the lines of other tools are never rewritten);
//   3. if the new content is shorter, truncate to its length; then fsync.
// What a reader can see at any instant: between 2 and 3, the new content followed by a
// tail of the old one (the old end of the file, only when it shrank); during 2, a prefix
// of the new tail over the old one. It never sees the file empty or shorter than the part
// that is not ours, and a crash at any point leaves every line of other tools intact.
//
// `edit` sees the bytes as file-bytes.ts decodes them: bytes that are not UTF-8 (a
// Latin-1 line of another tool) come back exactly, never as U+FFFD.
import { open } from 'node:fs/promises';
import { bytesFromText, textFromBytes } from '@hairpin/shared';

export type WriteResult = 'written' | 'unchanged';

function commonPrefix(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/** Reads the file, lets `edit` compute the wanted text, writes it in place if different. */
export async function editFileInPlace(
  path: string,
  edit: (current: string) => string,
): Promise<WriteResult> {
  const handle = await open(path, 'r+');
  try {
    const current = await handle.readFile();
    const wanted = bytesFromText(edit(textFromBytes(current)));
    if (wanted.equals(current)) return 'unchanged';
    const from = commonPrefix(current, wanted);
    let offset = from;
    while (offset < wanted.length) {
      const { bytesWritten } = await handle.write(wanted, offset, wanted.length - offset, offset);
      offset += bytesWritten;
    }
    if (wanted.length < current.length) await handle.truncate(wanted.length);
    await handle.datasync();
    return 'written';
  } finally {
    await handle.close();
  }
}
