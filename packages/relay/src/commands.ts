// What `hairpin-relay --help` and `hairpin-relay demo --help` say: generated from the flag
// specs that loadConfig and runDemo parse (flags.ts, help.ts).
import type { CommandHelp } from '@hairpin/shared';
import { RELAY_FLAGS } from './config.ts';
import { DEMO_FLAGS } from './demo.ts';

export const RELAY_COMMAND: CommandHelp = {
  name: 'hairpin-relay',
  usage: '[flags]',
  about:
    "The PROXY-protocol TCP relay: accepts a connection, writes a PROXY header with the client's address to the target, then relays the bytes untouched (docs/relay.md).",
  commands: [{ name: 'demo', about: 'the relay in front of a PROXY-aware backend, on loopback' }],
  sections: [{ title: 'relay flags (docs/install.md, Configuration)', flags: RELAY_FLAGS }],
  notes: [
    'examples:',
    '  hairpin-relay --listen 0.0.0.0:8080=ingress-nginx-controller.ingress-nginx:80',
    '  TARGET_SERVER=ingress-nginx-controller.ingress-nginx hairpin-relay',
  ],
};

export const DEMO_COMMAND: CommandHelp = {
  name: 'hairpin-relay demo',
  usage: '[flags]',
  about:
    'Starts the relay on 127.0.0.1 in front of a small HTTP backend that only speaks the PROXY protocol, makes one request through it, and keeps serving until Ctrl-C.',
  sections: [{ title: 'demo flags', flags: DEMO_FLAGS }],
};
