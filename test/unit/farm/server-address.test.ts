import { test } from 'node:test';
import assert from 'node:assert/strict';
import { starterFarm } from '../../../src/core/farm/model';
import { checkFarmText } from '../../../src/core/farm/load';

// Finding 5 of issue 13: server.address and server.names went unescaped into every script
// (`10.0.2.2 || shell ||` gave `kernel http://10.0.2.2 || shell ||:18080/vmlinuz`). Only an IP address or a DNS name
// loads; anything else is an error at its JSON position.

function farmText(server: Record<string, unknown>): string {
  const farm = starterFarm('lab') as unknown as Record<string, unknown>;
  farm.server = { ...(farm.server as object), ...server };
  return JSON.stringify(farm, null, 2);
}

const errorsAt = (text: string) => new Map(checkFarmText(text).issues.filter((i) => i.severity === 'error').map((i) => [i.pointer, i]));

test('server.address that is not an IP address or a DNS name is refused at its position', () => {
  for (const bad of ['10.0.2.2 || shell ||', '10.0.2.2:8443', 'http://10.0.2.2', '${net0/ip}', 'a b', '[::1]', 'host;reboot', '-lead.example', 'a..b', '999.1.1.1', ' 10.0.2.2']) {
    const text = farmText({ address: bad });
    const issue = errorsAt(text).get('/server/address');
    assert.ok(issue, `"${bad}" must be refused`);
    assert.match(issue.message, /server\/address .* is not an IP address or a DNS name/);
    assert.ok(issue.message.includes(JSON.stringify(bad)), 'the sentence names the bad value');
    assert.equal(issue.at.line, text.split('\n').findIndex((l) => l.includes('"address"')));
  }
});

test('each server.names entry is checked on its own, with its index in the pointer', () => {
  const text = farmText({ names: ['localhost', 'boot.lab.example', '*.example.com', 'x || shell'] });
  const errs = errorsAt(text);
  assert.ok(errs.get('/server/names/2'), 'a wildcard is not a name the farm serves');
  assert.ok(errs.get('/server/names/3'));
  assert.equal(errs.has('/server/names/0'), false);
  assert.equal(errs.has('/server/names/1'), false);
});

test('plain IPv4, IPv6 and DNS names load', () => {
  for (const good of ['10.0.2.2', '192.168.1.10', '::1', 'fd00::2', 'localhost', 'boot-1.lab.example', 'BOOT.example.']) {
    assert.deepEqual([...errorsAt(farmText({ address: good, names: [good] })).keys()], [], good);
  }
});
