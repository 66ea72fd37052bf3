// What `hairpin-hosts-agent --help` and `... render --help` say: generated from the flag
// specs that loadConfig and runRender parse (flags.ts, help.ts).
import type { CommandHelp } from '@hairpin/shared';
import { AGENT_FLAGS } from './config.ts';
import { RENDER_ARGS, RENDER_FLAGS } from './render.ts';

export const AGENT_COMMAND: CommandHelp = {
  name: 'hairpin-hosts-agent',
  usage: '[flags]',
  about:
    "The node agent: writes the hosts published in the ConfigMap hairpin-hosts into the node's hosts file, pointing at the relay (docs/hosts-agent.md). Runs in a pod, or with KUBECONFIG.",
  commands: [{ name: 'render', about: "the agent's hosts-file edit as a pure command" }],
  sections: [{ title: 'hosts agent flags (docs/install.md, Configuration)', flags: AGENT_FLAGS }],
};

export const RENDER_COMMAND: CommandHelp = {
  name: 'hairpin-hosts-agent render',
  usage: RENDER_ARGS,
  about:
    'Prints the hosts file with the managed line for these hosts; no --host: every managed line removed. Bad input: exit 2, a message on stderr, nothing on stdout.',
  sections: [{ title: 'render flags (docs/hostnames-and-hosts-file.md)', flags: RENDER_FLAGS }],
};
