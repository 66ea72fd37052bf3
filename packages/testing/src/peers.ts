// Real PROXY-protocol receivers: nginx (`listen ... proxy_protocol`) and HAProxy
// (`bind ... accept-proxy`), each answering HTTP with the client address the header
// carried. Started as child processes with configs in a temp dir, on free loopback ports.
// Used by the relay's peer tests and by the dns-controller's whole-path test.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { request } from 'node:http';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binaryMissing } from './missing.ts';

export const NGINX = '/usr/sbin/nginx';
export const HAPROXY = '/usr/sbin/haproxy';

/** Missing peers skip their tests with a message, except in CI (see skipOrFail). */
export const peerMissing = (binary: string): string | undefined =>
  binaryMissing(binary, 'apt-get install nginx haproxy', 'peer tests');

export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer().listen(0, host);
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/**
 * One HTTP GET of `/` to `host:port` (a fresh connection); the body, trimmed, and the
 * client's own address (`local`), which a PROXY receiver should report back.
 */
export function httpGet(
  port: number,
  host = '127.0.0.1',
  headers: Record<string, string> = {},
): Promise<{ body: string; local: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: '/', headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ body: body.trim(), local }));
    });
    let local = '';
    req.on('socket', (s) => s.on('connect', () => (local = `${s.localAddress}:${s.localPort}`)));
    req.on('error', reject);
    req.end();
  });
}

async function waitForPort(
  port: number,
  host: string,
  child: ChildProcess,
  log: () => string,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`peer exited early: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ port, host }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`peer did not listen on ${host}:${port}: ${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Peer {
  readonly port: number;
  stop(): Promise<void>;
}

async function startPeer(
  binary: string,
  args: string[],
  dir: string,
  port: number,
  host: string,
): Promise<Peer> {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  await waitForPort(port, host, child, () => output);
  return {
    port,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** nginx answering `$proxy_protocol_addr:$proxy_protocol_port` on IPv4 and (if given) IPv6. */
export async function startNginx(options: { ipv6: boolean; extraHttp?: string }): Promise<Peer> {
  const dir = mkdtempSync(join(tmpdir(), 'hairpin-nginx-'));
  mkdirSync(join(dir, 'logs'));
  const port = await freePort();
  const v6 = options.ipv6 ? `listen [::1]:${port} proxy_protocol;` : '';
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1;
error_log stderr warn;
pid ${dir}/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port} proxy_protocol;
    ${v6}
    location / { default_type text/plain; return 200 "$proxy_protocol_addr:$proxy_protocol_port\\n"; }
  }
  ${options.extraHttp ?? ''}
}
`,
  );
  return startPeer(
    NGINX,
    ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'],
    dir,
    port,
    '127.0.0.1',
  );
}

/** HAProxy in HTTP mode answering `src:src_port` (from the PROXY header) on IPv4 and IPv6. */
export async function startHaproxyReceiver(options: { ipv6: boolean }): Promise<Peer> {
  const dir = mkdtempSync(join(tmpdir(), 'hairpin-haproxy-'));
  const port = await freePort();
  const v6 = options.ipv6 ? `  bind [::1]:${port} accept-proxy` : '';
  writeFileSync(
    join(dir, 'haproxy.cfg'),
    `global
  nbthread 1
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend receiver
  bind 127.0.0.1:${port} accept-proxy
${v6}
  http-request return status 200 content-type text/plain lf-string "%[src]:%[src_port]\\n"
`,
  );
  return startPeer(HAPROXY, ['-f', join(dir, 'haproxy.cfg'), '-db'], dir, port, '127.0.0.1');
}
