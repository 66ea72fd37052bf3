// Typed errors with stable codes, one catalogue per package. Callers match `err.code`; a code is
// never reused for another meaning. Add new codes here, never inline.
export const ErrorCodes = {
  /** The Corefile does not parse the way CoreDNS would parse it; `line` says where. */
  COREFILE_PARSE: 'HAIRPIN_COREFILE_PARSE',
  /** No server block serves the root zone `.` over plain DNS. */
  COREFILE_NO_ROOT_BLOCK: 'HAIRPIN_COREFILE_NO_ROOT_BLOCK',
  /** Several root-zone server blocks and no rule to choose one. */
  COREFILE_AMBIGUOUS_ROOT: 'HAIRPIN_COREFILE_AMBIGUOUS_ROOT',
  /** The Corefile parses, but hairpin cannot place or remove its lines without touching others'. */
  COREFILE_UNEDITABLE: 'HAIRPIN_COREFILE_UNEDITABLE',
  /** A host passed to an editor is not a valid DNS name (defence in depth). */
  INVALID_HOST: 'HAIRPIN_INVALID_HOST',
  /** A rewrite target (the relay FQDN) is not a valid DNS name. */
  INVALID_TARGET: 'HAIRPIN_INVALID_TARGET',
  /** An IP address for a hosts-file line is not an IPv4 or IPv6 literal. */
  INVALID_IP: 'HAIRPIN_INVALID_IP',
  /** Invalid configuration (flags / environment); `problems` lists every one. */
  CONFIG: 'HAIRPIN_CONFIG',
  /** Input file (YAML / JSON) could not be read as what was expected. */
  INPUT: 'HAIRPIN_INPUT',
  /** A command was called wrongly (missing or conflicting arguments); the message has the usage. */
  USAGE: 'HAIRPIN_USAGE',
  /** A target ConfigMap exists but has no entry under the configured key (e.g. `Corefile`). */
  CONFIGMAP_KEY_MISSING: 'HAIRPIN_CONFIGMAP_KEY_MISSING',
  /** The process could not start (an address in use or not available); a CLI exits 1. */
  STARTUP: 'HAIRPIN_STARTUP',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class HairpinError extends Error {
  readonly code: ErrorCode;
  /** 1-based line in the input that the error is about, where there is one. */
  readonly line: number | undefined;

  constructor(code: ErrorCode, message: string, options: { line?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HairpinError';
    this.code = code;
    this.line = options.line;
  }
}

/** Every configuration problem at once; a CLI prints each and exits 2. */
export class ConfigError extends HairpinError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(ErrorCodes.CONFIG, `invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
    this.problems = Object.freeze([...problems]);
  }
}

/** A failure to start that the operator must fix; a CLI prints the one-line message, exit 1. */
export class StartupError extends HairpinError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(ErrorCodes.STARTUP, message, options);
    this.name = 'StartupError';
  }
}
