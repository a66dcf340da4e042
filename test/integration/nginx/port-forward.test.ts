import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { which } from '../../../src/core/process/light';
import { nginxTestFarm } from '../../support/nginx';

// A real NAT rule in this machine's kernel, as podman leaves behind when a container goes without its network being
// torn down: the farm's port is free, yet every connection to it is sent elsewhere. Loopback only, removed after.

const cli = path.resolve(__dirname, '..', '..', '..', '..', 'out', 'cli.js');
const skip = process.getuid?.() !== 0 ? 'SKIPPED: not root, so no NAT rule can be made (the port-forward refusal was NOT tested)'
  : !which('iptables') ? 'SKIPPED: iptables is not installed (apt-get install iptables): the port-forward refusal was NOT tested'
  : !which('nginx') ? 'SKIPPED: nginx is not installed (apt-get install nginx)' : undefined;

const iptables = (args: string[]) => spawnSync('iptables', ['-t', 'nat', ...args], { encoding: 'utf8' });

/** The first line whoever takes a connection to 127.0.0.1:port answers to a plain HTTP request. */
function firstLine(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1' }, () => s.write('GET / HTTP/1.0\r\n\r\n'));
    let got = '';
    s.setEncoding('utf8');
    s.on('data', (d) => { got += String(d); });
    s.once('close', () => resolve(got.split('\n')[0]!.trim()));
    s.once('error', reject);
  });
}

/** A local farm, `ipxe-farm nginx CMD` in it, and a listener on loopback standing for the container that is gone. */
async function farmAndElsewhere() {
  const f = await nginxTestFarm('local');
  const elsewhere = net.createServer((s) => s.end('the container that is gone\n'));
  await new Promise<void>((r) => elsewhere.listen(0, '127.0.0.1', r));
  return {
    f,
    to: `127.0.0.1:${(elsewhere.address() as net.AddressInfo).port}`,
    nginx: (cmd: string) => spawnSync(process.execPath, [cli, 'nginx', cmd], { cwd: f.root, encoding: 'utf8', timeout: 60_000 }),
    close: () => { elsewhere.close(); },
  };
}

test('nginx up refuses a port that a NAT rule sends elsewhere, names the rule, and starts once the rule it names is removed', async (t) => {
  if (skip) return t.skip(skip);
  const { f, to, nginx, close } = await farmAndElsewhere();
  const port = f.farm.server.httpsPort;
  const chain = `IPXEFARM-T${process.pid}`.slice(0, 28);
  try {
    assert.equal(iptables(['-N', chain]).status, 0);
    assert.equal(iptables(['-A', 'OUTPUT', '-j', chain]).status, 0);
    const made = iptables(['-A', chain, '-d', '127.0.0.1/32', '-p', 'tcp', '-m', 'tcp', '--dport', String(port), '-j', 'DNAT', '--to-destination', to]);
    assert.equal(made.status, 0, made.stderr);
    assert.equal(await firstLine(port), 'the container that is gone', 'the rule is real: a connection to the farm port lands elsewhere');

    const refused = nginx('up');
    assert.equal(refused.status, 1, refused.stdout + refused.stderr);
    assert.match(refused.stderr, new RegExp(`Port ${port} \\(HTTPS\\) is free on .*, but a firewall rule sends its connections to ${to} \\(iptables nat chain ${chain}\\)`));
    assert.match(nginx('status').stdout, /stopped/, 'nothing was started');

    const fix = /`(iptables -t nat -D [^`]+)`/.exec(refused.stderr)?.[1];
    assert.ok(fix, refused.stderr);
    const removed = spawnSync('sh', ['-c', fix], { encoding: 'utf8' });
    assert.equal(removed.status, 0, `the command the message gives works: ${removed.stderr}`);

    const up = nginx('up');
    assert.equal(up.status, 0, up.stderr);
    assert.match(await firstLine(port), /^HTTP\/1\.1 400/, 'the port now reaches nginx, which answers plain HTTP on its TLS port with a 400');
  } finally {
    nginx('down');
    iptables(['-D', 'OUTPUT', '-j', chain]);
    iptables(['-F', chain]);
    iptables(['-X', chain]);
    close();
  }
});

test('a rule in an nftables table of its own, which no iptables listing shows, is found by connecting: nginx up refuses and says how to find it', async (t) => {
  if (skip) return t.skip(skip);
  if (!which('nft')) return t.skip('SKIPPED: nft is not installed (apt-get install nftables): the nftables-only case was NOT tested');
  const { f, to, nginx, close } = await farmAndElsewhere();
  const port = f.farm.server.httpPort;
  const table = `ipxefarm_t${process.pid}`;
  const nft = (args: string[]) => spawnSync('nft', args, { encoding: 'utf8' });
  try {
    assert.equal(nft(['add', 'table', 'ip', table]).status, 0);
    assert.equal(nft(['add', 'chain', 'ip', table, 'out', '{ type nat hook output priority -100 ; }']).status, 0);
    const made = nft(['add', 'rule', 'ip', table, 'out', 'ip', 'daddr', '127.0.0.1', 'tcp', 'dport', String(port), 'dnat', 'to', to]);
    assert.equal(made.status, 0, made.stderr);
    assert.equal(await firstLine(port), 'the container that is gone', 'the rule is real');
    assert.doesNotMatch(iptables(['-S']).stdout, new RegExp(`dport ${port}\\b`), 'and iptables does not list it');

    const refused = nginx('up');
    assert.equal(refused.status, 1, refused.stdout + refused.stderr);
    assert.match(refused.stderr, new RegExp(`Port ${port} \\(HTTP\\) is free on .*, but a connection to it from this machine does not reach a listener there`));
    assert.match(refused.stderr, new RegExp(`nft list ruleset \\| grep -n 'dport ${port}'`));
    assert.match(nft(['list', 'ruleset']).stdout, new RegExp(`dport ${port} `), 'where the message says to look, the rule is');
    assert.match(nginx('status').stdout, /stopped/, 'nothing was started');

    assert.equal(nft(['delete', 'table', 'ip', table]).status, 0);
    const up = nginx('up');
    assert.equal(up.status, 0, up.stderr);
  } finally {
    nginx('down');
    nft(['delete', 'table', 'ip', table]);
    close();
  }
});
