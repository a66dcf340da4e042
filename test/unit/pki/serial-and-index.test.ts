import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normaliseSerial, parseSerial, serialToDerHex, serialToNginx } from '../../../src/core/pki/serial';
import { serialiseIndex } from '../../../src/core/pki/store';
import { emptyIndex, parseIndex } from '../../../src/core/pki/indexRead';
import { findByFingerprint, findBySerial, currentCert } from '../../../src/core/pki/certLookup';
import { expiryReport } from '../../../src/core/pki/expiry';
import type { CertRecord } from '../../../src/core/pki/types';

test('serials print like nginx $ssl_client_serial: uppercase, whole bytes; DER gets a sign byte when the top bit is set', () => {
  assert.equal(serialToNginx(1n), '01');
  assert.equal(serialToNginx(0xabcn), '0ABC');
  assert.equal(serialToNginx(0x7fn), '7F');
  assert.equal(serialToNginx(0x80n), '80');
  assert.equal(serialToDerHex(0x7fn), '7F');
  assert.equal(serialToDerHex(0x80n), '0080');
  assert.equal(serialToDerHex(0xff01n), '00FF01');
  assert.throws(() => serialToNginx(0n));
  assert.equal(parseSerial('0x1a:2B'), 0x1a2bn);
  assert.equal(parseSerial('zz'), undefined);
  assert.equal(parseSerial('00'), undefined);
  assert.equal(normaliseSerial('0080'), '80');
  assert.equal(normaliseSerial('3'), '03');
});

function rec(serial: string, over: Partial<CertRecord> = {}): CertRecord {
  return {
    serial, kind: 'client', name: `c${serial}`, subject: `CN=c${serial}`, sha1: serial.toLowerCase().padStart(40, '0'), sha256: '0'.repeat(64),
    notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2027-01-01T00:00:00.000Z', status: 'valid', certFile: `issued/serials/${serial}.crt`,
    issuedAt: '2026-01-01T00:00:00.000Z', ...over,
  };
}

test('the index round-trips, one record per line, and lookups use nginx forms', () => {
  const idx = { ...emptyIndex(), nextSerial: '04', records: [rec('01', { kind: 'root', name: 'root' }), rec('02', { name: 'dut1', status: 'revoked' }), rec('03', { name: 'dut1' })] };
  const text = serialiseIndex(idx);
  assert.equal(text.split('\n').length, 6, 'head line, three record lines, closing line, trailing newline');
  assert.deepEqual(parseIndex(text, 'x'), idx);
  assert.equal(findBySerial(idx, '3')?.serial, '03');
  assert.equal(findBySerial(idx, '0x03')?.serial, '03');
  assert.equal(findBySerial(idx, 'nope'), undefined);
  assert.equal(findByFingerprint(idx, idx.records[1]!.sha1.toUpperCase())?.serial, '02');
  assert.equal(currentCert(idx, 'client', 'dut1')?.serial, '03', 'the revoked one is not current');
  assert.equal(currentCert(idx, 'root')?.serial, '01');
  assert.equal(currentCert(idx, 'client', 'dut2'), undefined);
});

test('a damaged index is refused with a sentence, not a stack trace', () => {
  assert.throws(() => parseIndex('{"version":1,', 'pki/index.json'), /pki\/index\.json is not valid JSON/);
  assert.throws(() => parseIndex('{"version":2,"records":[]}', 'pki/index.json'), /not an iPXE Farm index/);
});

test('the expiry report splits expired, expiring within N days and fine, and skips revoked ones', () => {
  const now = new Date('2026-06-01T00:00:00Z');
  const idx = {
    ...emptyIndex(),
    records: [
      rec('01', { notAfter: '2026-05-01T00:00:00Z' }),
      rec('02', { notAfter: '2026-06-10T00:00:00Z' }),
      rec('03', { notAfter: '2026-06-05T00:00:00Z' }),
      rec('04', { notAfter: '2027-06-01T00:00:00Z' }),
      rec('05', { notAfter: '2026-05-01T00:00:00Z', status: 'revoked' }),
    ],
  };
  const r = expiryReport(idx, 30, now);
  assert.deepEqual(r.expired.map((e) => e.record.serial), ['01']);
  assert.deepEqual(r.expiring.map((e) => e.record.serial), ['03', '02'], 'soonest first');
  assert.equal(r.ok, 1);
  assert.equal(r.revoked, 1);
  assert.equal(r.expiring[0]!.daysLeft, 4);
});

test('a streamed index write (existing records first, new ones at commit) equals a full write, and abort leaves nothing', async () => {
  const { mkdtempSync, readFileSync, readdirSync, writeFileSync } = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const { beginIndexWrite } = await import('../../../src/core/pki/store');
  const { pkiPaths } = await import('../../../src/core/pki/paths');
  const { farmLayout } = await import('../../../src/core/farm/layout');
  for (const [before, added] of [[0, 0], [0, 1], [3, 0], [3, 2]] as const) {
    const p = pkiPaths(farmLayout(mkdtempSync(path.join(os.tmpdir(), 'idx-'))));
    const { mkdirSync } = await import('node:fs');
    mkdirSync(p.dir);
    writeFileSync(p.index, 'old');
    const idx = { ...emptyIndex(), records: Array.from({ length: before }, (_, i) => rec(`0${i + 1}`)) };
    const w = await beginIndexWrite(p, idx);
    for (let i = 0; i < added; i++) idx.records.push(rec(`1${i}`));
    idx.nextSerial = '20';
    idx.crlNumber = 3;
    await w.commit(idx);
    const text = readFileSync(p.index, 'utf8');
    assert.equal(text, serialiseIndex(idx), `${before}+${added}`);
    assert.deepEqual(parseIndex(text, 'x'), idx);
    const w2 = await beginIndexWrite(p, idx);
    await w2.abort();
    assert.deepEqual(readdirSync(p.dir).sort(), ['index.json']);
    assert.equal(readFileSync(p.index, 'utf8'), text, 'abort keeps the old index');
  }
});

test('the index read while the lock is taken is used only if the file is still the one read; else it is read again', async () => {
  const { mkdtempSync, readFileSync, writeFileSync, openSync, writeSync, closeSync } = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const { readIndexAhead } = await import('../../../src/core/pki/store');
  const { writeFileAtomic } = await import('../../../src/core/fs/atomic');
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'ahead-')), 'index.json');
  const names = (i: { records: CertRecord[] }) => i.records.map((r) => r.name);
  writeFileSync(file, serialiseIndex({ ...emptyIndex(), records: [rec('01'), rec('02')] }));
  const settle = () => new Promise((r) => setTimeout(r, 200)); // lets the early read finish first (a slow one reads the new file: same outcome)

  let a = readIndexAhead(file);
  await settle();
  assert.deepEqual(names(await a.underLock()), ['c01', 'c02'], 'unchanged: the early read');

  a = readIndexAhead(file);
  await settle();
  await writeFileAtomic(file, serialiseIndex({ ...emptyIndex(), records: [rec('01'), rec('02'), rec('03')] }));
  assert.deepEqual(names(await a.underLock()), ['c01', 'c02', 'c03'], 'replaced by a writer (rename): read again');

  a = readIndexAhead(file);
  await settle();
  // Edited in place, same size (the way an editor may save): the times change, so it is read again.
  const text = readFileSync(file, 'utf8');
  const at = text.indexOf('"name":"c02"') + '"name":"c0'.length;
  const fd = openSync(file, 'r+');
  writeSync(fd, '9', at);
  closeSync(fd);
  assert.deepEqual(names(await a.underLock()), ['c01', 'c09', 'c03'], 'edited in place: read again');

  a = readIndexAhead(path.join(path.dirname(file), 'none.json'));
  assert.deepEqual(names(await a.underLock()), [], 'no index yet: empty');
  await a.drop();
});
