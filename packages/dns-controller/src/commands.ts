// What `hairpin-dns-controller --help` and each subcommand's --help say: generated from the
// flag specs that loadConfig and runRender parse (flags.ts, help.ts).
import type { CommandHelp, FlagSpec } from '@hairpin/shared';
import { CONTROLLER_FLAGS } from './config.ts';
import { RENDER_ARGS, RENDER_FLAGS } from './render.ts';

const CONTROLLER_SECTION = {
  title: 'controller flags (docs/install.md, Configuration)',
  flags: CONTROLLER_FLAGS,
};

/** `cleanup --force`: no environment twin, overriding the check must be said on the command line. */
export const FORCE_FLAG: FlagSpec = {
  name: 'force',
  env: null,
  boolean: true,
  help: 'run even while a controller holds a fresh Lease',
};

/** `status --output` (also -o), read by status-command.ts. */
export const OUTPUT_FLAG: FlagSpec = {
  name: 'output',
  env: null,
  arg: 'text|json',
  default: 'text',
  help: 'the report as a table or as JSON (also -o)',
};

export const CONTROLLER_COMMAND: CommandHelp = {
  name: 'hairpin-dns-controller',
  usage: '[command] [flags]',
  about:
    'Without a command: the controller. It watches Ingresses, Gateways and HTTPRoutes and points their hostnames at the relay through CoreDNS rewrite rules and the ConfigMap hairpin-hosts (docs/dns-controller.md). Runs in a pod, or with KUBECONFIG.',
  commands: [
    { name: 'render', about: "the controller's Corefile edit as a pure command" },
    { name: 'status', about: 'which hosts are handled, read through the API server' },
    { name: 'cleanup', about: 'the uninstall step: remove every managed line and hairpin-hosts' },
  ],
  sections: [CONTROLLER_SECTION],
};

export const RENDER_COMMAND: CommandHelp = {
  name: 'hairpin-dns-controller render',
  usage: RENDER_ARGS,
  about:
    "Prints the Corefile with these hosts answered by the relay's ClusterIP (--relay-ip); no hosts: every managed line removed. If it cannot edit safely: exit 2, a message on stderr, nothing on stdout.",
  sections: [{ title: 'render flags (docs/corefile-editing.md, render)', flags: RENDER_FLAGS }],
};

export const STATUS_COMMAND: CommandHelp = {
  name: 'hairpin-dns-controller status',
  usage: '[--output text|json] [controller flags]',
  about:
    "Each host's state (managed, rejected and why), the leader and the ConfigMaps, read with your kubeconfig; the controller's flags name a non-default setup.",
  sections: [{ title: 'status flags', flags: [OUTPUT_FLAG] }, CONTROLLER_SECTION],
};

export const CLEANUP_COMMAND: CommandHelp = {
  name: 'hairpin-dns-controller cleanup',
  usage: '[--force] [controller flags]',
  about:
    "Removes every managed line (every form, earlier versions' too) from the Corefile(s) and deletes hairpin-hosts; refuses (exit 2) while a controller holds a fresh Lease. Pass the controller's settings.",
  sections: [{ title: 'cleanup flags', flags: [FORCE_FLAG] }, CONTROLLER_SECTION],
};
