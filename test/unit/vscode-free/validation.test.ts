import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkDays, checkErrorCode, checkMacs, checkName, checkSecretValue, parseMacs } from '../../../src/vscode/model/validation';

test('input boxes validate as you type, with one sentence saying what to fix', () => {
  const name = checkName('client', ['dut1']);
  assert.equal(name('dut2'), undefined);
  assert.match(name('Dut 2')!, /lowercase/);
  assert.match(name('dut1')!, /already a client called "dut1"/);
  assert.match(name('')!, /Type a client name/);
  assert.equal(checkMacs('52:54:00:12:34:56, 52-54-00-12-34-57'), undefined);
  assert.match(checkMacs('52:54:00:12:34')!, /not a MAC/);
  assert.deepEqual(parseMacs('52-54-00-12-34-56 5254.0012.3457'), ['52:54:00:12:34:56', '52:54:00:12:34:57']);
  assert.equal(checkDays(3650)(''), undefined);
  assert.match(checkDays(3650)('0')!, /from 1 to 3650/);
  assert.match(checkDays(3650)('1y')!, /whole number/);
  assert.equal(checkErrorCode('0216eb3c'), undefined);
  assert.equal(checkErrorCode('https://ipxe.org/err/0216eb3c'), undefined);
  assert.ok(checkErrorCode('hello'));
  assert.equal(checkSecretValue('s3cret'), undefined);
  assert.match(checkSecretValue('a\nchain http://evil')!, /newlines/);
});
