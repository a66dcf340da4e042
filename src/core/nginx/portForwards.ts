import { BlockList, isIPv4 } from 'node:net';
import { run } from '../process';
import { which } from '../process/light';

/**
 * A NAT rule that sends connections for a local port somewhere else. nginx can bind such a port and yet never see a
 * client: the kernel rewrites the destination first. podman leaves these behind when a container goes without its
 * network being torn down (a `podman system reset`, a crash), and the port then looks free.
 */
export interface PortForward {
  port: number;
  /** Where the rule sends the connections, as iptables prints it (10.88.0.3:8443). */
  to: string;
  chain: string;
  /** The rule as `iptables -t nat -S` printed it, so the fix can name it exactly. */
  rule: string;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

function option(words: string[], name: string): string | undefined {
  const i = words.indexOf(name);
  return i >= 0 ? words[i + 1] : undefined;
}

/** The chains a packet to this machine can pass through: PREROUTING (from boards) and OUTPUT (from here), and what they jump to. */
function reachableChains(rules: string[][]): Set<string> {
  const jumps = new Map<string, string[]>();
  for (const w of rules) {
    const target = option(w, '-j');
    if (w[0] === '-A' && w[1] && target) jumps.set(w[1], [...(jumps.get(w[1]) ?? []), target]);
  }
  const seen = new Set<string>();
  const todo = ['PREROUTING', 'OUTPUT'];
  for (let c = todo.pop(); c !== undefined; c = todo.pop()) {
    if (seen.has(c)) continue;
    seen.add(c);
    todo.push(...(jumps.get(c) ?? []));
  }
  return seen;
}

function coversPort(spec: string, port: number): boolean {
  const [lo, hi] = spec.split(':').map(Number);
  return hi === undefined ? lo === port : port >= lo! && port <= hi;
}

/** Does a rule's `-d` (absent, an address or a CIDR) take connections made to host? */
function coversHost(dest: string | undefined, host: string): boolean {
  if (dest === undefined || WILDCARDS.has(host)) return true;
  if (!isIPv4(host)) return false;
  const [addr, bits] = dest.split('/');
  if (!addr || !isIPv4(addr)) return false;
  const list = new BlockList();
  list.addSubnet(addr, bits === undefined ? 32 : Number(bits), 'ipv4');
  return list.check(host, 'ipv4');
}

/**
 * The DNAT rules in `iptables -t nat -S` output that take TCP connections to host:port for one of the ports, in a
 * chain that incoming or local packets reach. A rule with a negation in it is left out: we only claim what it certainly does.
 */
export function parseForwards(text: string, ports: number[], host: string): PortForward[] {
  const rules = text.split('\n').map((r) => r.trim()).filter(Boolean).map((r) => r.split(/\s+/));
  const reachable = reachableChains(rules);
  const found: PortForward[] = [];
  for (const words of rules) {
    if (words[0] !== '-A' || option(words, '-j') !== 'DNAT' || words.includes('!') || !reachable.has(words[1]!)) continue;
    if (option(words, '-p') !== 'tcp') continue;
    const dport = option(words, '--dport');
    const to = option(words, '--to-destination');
    if (!dport || !to || !coversHost(option(words, '-d'), host)) continue;
    for (const port of ports) if (coversPort(dport, port)) found.push({ port, to, chain: words[1]!, rule: words.join(' ') });
  }
  return found;
}

/** The forwards that would take the ports away from nginx; none when iptables is not here or cannot be read (not root). */
export async function portForwards(ports: number[], host: string): Promise<PortForward[]> {
  const iptables = which('iptables');
  if (!iptables) return [];
  const r = await run(iptables, ['-t', 'nat', '-S'], { timeout: 10_000 }).catch(() => undefined);
  return r?.exitCode === 0 ? parseForwards(r.stdout, ports, host) : [];
}

