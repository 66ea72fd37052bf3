// Ownership markers (a stable contract: docs/corefile-editing.md, docs/hostnames-and-hosts-file.md).
/** Appended to every line hairpin writes, in Corefiles and hosts files. */
export const MANAGED_MARKER = '# managed by hairpin';
/** The Ruby hairpin-proxy's marker: such lines are legacy rules, removed on apply. */
export const LEGACY_MARKER = '# Added by hairpin-proxy';
/**
 * A hosts-file line hairpin writes only when the file had no final newline: it had to end
 * the last line before appending its own, and removing its lines takes that off again.
 */
export const ADDED_LINE_BREAK = `# hairpin added the line break above ${MANAGED_MARKER}`;
