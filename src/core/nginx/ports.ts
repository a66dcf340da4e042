import * as fsp from 'node:fs/promises';
import * as net from 'node:net';
import { FarmError } from '../errors';
import { portForwards, type PortForward } from './portForwards';

/** The address a connection from this machine uses to reach a listener bound on host (a wildcard is reached on loopback). */
function connectAddress(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}

/**
 * Bind host:port for a moment and connect to it from this machine: 'taken' when it cannot be bound, 'diverted' when the
 * connection does not arrive (the kernel sent it elsewhere: a NAT rule from iptables, legacy iptables, nftables' own
 * tables or anything else, which no one rule listing shows), else 'ours'.
 */
function probePort(port: number, host: string, timeoutMs = 3000): Promise<'taken' | 'diverted' | 'ours'> {
  const token = `ipxe-farm-${process.pid}-${Math.random().toString(36).slice(2)}`;
  return new Promise((resolve) => {
    // The client closes first, so the TIME_WAIT is on its ephemeral port, not on the port nginx binds next.
    const server = net.createServer((s) => { s.on('error', () => undefined); s.write(token); s.resume(); s.once('end', () => s.end()); });
    const finish = (r: 'diverted' | 'ours') => { server.close(); resolve(r); };
    server.once('error', () => resolve('taken'));
    server.listen({ port, host, exclusive: true }, () => {
      let got = '';
      const c = net.connect({ port, host: connectAddress(host) });
      const timer = setTimeout(() => { c.destroy(); finish('diverted'); }, timeoutMs);
      c.setEncoding('utf8');
      c.on('data', (d) => { got += String(d); if (got.length >= token.length) c.end(); });
      c.once('error', () => { clearTimeout(timer); finish('diverted'); });
      c.once('close', () => { clearTimeout(timer); finish(got === token ? 'ours' : 'diverted'); });
    });
  });
}

async function listeningInodes(port: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try { text = await fsp.readFile(table, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex; state 0A is LISTEN.
      if (f[1]?.endsWith(`:${hex}`) && f[3] === '0A' && f[9]) inodes.add(f[9]);
    }
  }
  return inodes;
}

/** "nginx (pid 1234)" for whoever listens on the port, when /proc lets us see it. */
export async function portOwner(port: number): Promise<string | undefined> {
  const inodes = await listeningInodes(port);
  if (inodes.size === 0) return undefined;
  let pids: string[] = [];
  try { pids = (await fsp.readdir('/proc')).filter((p) => /^\d+$/.test(p)); } catch { return undefined; }
  for (const pid of pids) {
    let fds: string[] = [];
    try { fds = await fsp.readdir(`/proc/${pid}/fd`); } catch { continue; }
    for (const fd of fds) {
      let target = '';
      try { target = await fsp.readlink(`/proc/${pid}/fd/${fd}`); } catch { continue; }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m && inodes.has(m[1]!)) {
        const comm = (await fsp.readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '?')).trim();
        return `${comm} (pid ${pid})`;
      }
    }
  }
  return undefined;
}

const setting = (what: string) => `server.${what === 'HTTPS' ? 'httpsPort' : 'httpPort'}`;

/**
 * Refuse to start when a port is taken, naming the port and, when known, the process holding it; or when a NAT rule
 * would send the port's connections elsewhere, naming the rule when iptables can show it.
 */
export async function assertPortsFree(ports: Array<{ port: number; what: string }>, host: string): Promise<void> {
  let forwards: PortForward[] | undefined;
  for (const { port, what } of ports) {
    const probe = await probePort(port, host);
    if (probe === 'taken') {
      const owner = await portOwner(port);
      throw new FarmError(
        `Port ${port} (${what}) on ${host} is already taken${owner ? ` by ${owner}` : ''}, so nginx cannot listen there.`,
        `Stop ${owner ?? 'that program'}, or choose another port in ipxe-farm.json (${setting(what)}).`,
        'EADDRINUSE',
      );
    }
    // A rule for boards only (PREROUTING) does not divert the probe; iptables shows it, and names what the probe found.
    forwards ??= await portForwards(ports.map((p) => p.port), host);
    const rule = forwards.find((f) => f.port === port);
    if (!rule && probe === 'ours') continue;
    const harm = 'so nginx would never see a client; a podman port forward left by a container that is gone looks like this';
    throw rule
      ? new FarmError(
        `Port ${port} (${what}) is free on ${host}, but a firewall rule sends its connections to ${rule.to} (iptables nat chain ${rule.chain}), ${harm}.`,
        `Remove the rule if nothing needs it (\`iptables -t nat ${rule.rule.replace(/^-A /, '-D ')}\`), or choose another port in ipxe-farm.json (${setting(what)}).`,
        'EPORTFORWARDED')
      : new FarmError(
        `Port ${port} (${what}) is free on ${host}, but a connection to it from this machine does not reach a listener there: the kernel sends it elsewhere (a NAT rule), ${harm}.`,
        `Find the rule (\`nft list ruleset | grep -n 'dport ${port}'\`, or \`iptables -t nat -S\` as root) and remove it if nothing needs it, or choose another port in ipxe-farm.json (${setting(what)}).`,
        'EPORTFORWARDED');
  }
}

/** Wait until something accepts TCP connections on port, bound on host, or the check says to give up. */
export async function waitForPort(port: number, host: string, timeoutMs: number, giveUp?: () => Promise<boolean>): Promise<boolean> {
  const address = connectAddress(host);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ port, host: address });
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return true;
    if (giveUp && (await giveUp())) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}
