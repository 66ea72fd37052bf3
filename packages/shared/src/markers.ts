// Ownership markers (a stable contract: docs/corefile-editing.md, docs/hostnames-and-hosts-file.md).
/** Appended to every line hairpin writes, in Corefiles and hosts files. */
export const MANAGED_MARKER = '# managed by hairpin';
/** The Ruby hairpin-proxy's marker: such lines are legacy rules, removed on apply. */
export const LEGACY_MARKER = '# Added by hairpin-proxy';
