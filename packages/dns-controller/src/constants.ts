// The dns-controller's tunables, each with the reason for its value. Flags override the
// few that operators need (debounce, discovery interval); the rest are design choices.

/** Quiet time after the last event before a reconcile: a burst of Ingress edits (a Helm
 * upgrade) becomes one ConfigMap write, and a single change still lands well under 100 ms. */
export const DEFAULT_DEBOUNCE_MS = 50;

/** How often to look for the Gateway API CRDs until they exist: installing a CRD is rare,
 * and each look is one cheap list (404 until installed). */
export const DEFAULT_DISCOVERY_INTERVAL_MS = 60_000;

/** A failed reconcile is retried after 250 ms·2ⁿ, at most 30 s: quick after a blip, and no
 * more than two requests a minute against an apiserver that is down. */
export const RECONCILE_BACKOFF = { baseMs: 250, maxMs: 30_000 } as const;

/** A 409 (someone else wrote the ConfigMap between our read and our write) is retried by
 * re-reading, 5 times after 20 ms·2ⁿ: a conflict means a live concurrent writer (kubectl
 * edit, an addon manager), which settles within the 620 ms these add up to. */
export const CONFLICT_RETRIES = 5;
export const CONFLICT_BACKOFF_BASE_MS = 20;

/** A drop to zero hosts while rules exist must persist this long before every rule is
 * removed: an empty cache after a failed or partial list must not wipe the Corefile, and
 * a real "last Ingress deleted" can wait 3 s. */
export const CONFIRM_EMPTY_MS = 3_000;

/** Refused hostnames already reported (log, metric, Event) are remembered so each is
 * reported once; past this many the memory is cleared (bounded, at worst a repeat). */
export const REJECTION_MEMORY = 10_000;

/** Events: the same reason on the same object is recorded again only after 10 minutes
 * (as kubectl's own event correlator aggregates), and at most 5,000 are remembered. */
export const EVENT_REPEAT_AFTER_MS = 10 * 60_000;
export const EVENT_MEMORY = 5_000;

/** Informers restart after an error in 200 ms·2ⁿ with jitter, at most 30 s: the same
 * shape as client-go's reflector backoff, so an apiserver restart is survived quickly
 * and an outage costs few requests. */
export const INFORMER_BACKOFF = { minMs: 200, maxMs: 30_000 } as const;

/** The Lease: held 15 s, renewed every 2 s (client-go's leaderelection defaults are
 * 15 s / 10 s / 2 s): a dead leader is replaced within 15 s, a slow renew is tolerated. */
export const LEASE_DURATION_MS = 15_000;
export const LEASE_RENEW_MS = 2_000;

/** The Event reason on an object whose hostname was refused; `status` lists these Events. */
export const HOSTNAME_REFUSED = 'HostnameRefused';
/** Its message: this, then the policy's message (which quotes the name first). */
export const HOSTNAME_REFUSED_PREFIX = 'hairpin will not route this host: ';

/** The Warning Event on each target ConfigMap while hosts are left out because DNS is full. */
export const HOSTS_NOT_SERVED = 'HostsNotServed';

/** The Warning Event on a target ConfigMap whose Corefile has no `reload` plugin. */
export const COREFILE_WITHOUT_RELOAD = 'CorefileWithoutReload';

/** Informers list in pages of this many objects: the first list of 20,000 hosts never holds
 * one huge response and its parse at once (the peak that crossed the memory limit). */
export const LIST_PAGE_SIZE = 500;
