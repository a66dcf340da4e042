import { test } from 'node:test';
import assert from 'node:assert/strict';
import { echoText, isEchoSafe, safeLine, UnsafeValueError } from '../../../src/core/ipxe/scriptLine';
import { parseIpxeScript } from './ipxeParse';

const v = (text: string, value = 'secret.x') => ({ text, value });
const t = (text: string) => ({ text });

test('plain values pass through unchanged', () => {
  assert.equal(safeLine([t('kernel http://h/k '), t('a='), v('b,c/d:e+f')], 'cmdline'), 'kernel http://h/k a=b,c/d:e+f');
});

for (const bad of ['a\nb', 'a\rb', 'a\tb', 'a\u0000', 'x\u007f', 'a\u001bb']) {
  test(`a value with control character ${JSON.stringify(bad)} is refused`, () => {
    assert.throws(() => safeLine([t('kernel k x='), v(bad)], 'cmdline'), (e: unknown) => e instanceof UnsafeValueError && /control character|line break/.test(e.message) && e.source === 'secret.x');
  });
}

test('a template with a newline is refused too', () => {
  assert.throws(() => safeLine([t('kernel k a=1\nshell')], 'cmdline'), /line break/);
});

for (const w of ['||', '&&', ';']) {
  test(`a value holding the terminator ${w} as a word is refused`, () => {
    assert.throws(() => safeLine([t('kernel k x='), v(`a ${w} shell`)], 'cmdline'), /end of a command/);
  });
}

test('a terminator glued to other text is not a terminator and passes', () => {
  assert.equal(safeLine([t('kernel k x='), v('a||b;c&&d')], 'cmdline'), 'kernel k x=a||b;c&&d');
});

test('"#" starting a word from a value is refused (it would cut the line); inside a word it is fine', () => {
  assert.throws(() => safeLine([t('kernel k x='), v('a #rest')], 'cmdline'), /comment/);
  assert.equal(safeLine([t('kernel k x='), v('a#b')], 'cmdline'), 'kernel k x=a#b');
});

test('a trailing backslash (line continuation) is refused', () => {
  assert.throws(() => safeLine([t('kernel k x='), v('abc\\')], 'cmdline'), /backslash/);
});

test('a value may not open or sit inside an iPXE ${…} expansion', () => {
  assert.throws(() => safeLine([t('kernel k x='), v('${privkey}')], 'cmdline'), /expansion/);
  assert.throws(() => safeLine([t('kernel k x=$'), v('{privkey}')], 'cmdline'), /expansion/);
  assert.throws(() => safeLine([t('kernel k x=${net0/'), v('mac}')], 'cmdline'), /expansion/);
  // The template's own ${…} stays untouched, and a value next to it is fine.
  assert.equal(safeLine([t('kernel k ip=${ip} x='), v('$5')], 'cmdline'), 'kernel k ip=${ip} x=$5');
});

test('a value may not be the command word', () => {
  assert.throws(() => safeLine([v('shell', 'client.vars.cmd')], 'words'), /command itself/);
});

test('in a cmdline, a value with spaces is double-quoted for Linux and stays one kernel argument', () => {
  const line = safeLine([t('kernel k b2c.container='), v('-v perm:/mnt/perm docker://busybox')], 'cmdline');
  assert.equal(line, 'kernel k b2c.container="-v perm:/mnt/perm docker://busybox"');
  // Already inside the template's quotes: no second pair.
  assert.equal(safeLine([t('kernel k a="'), v('x y'), t('"')], 'cmdline'), 'kernel k a="x y"');
});

test('in a cmdline, a double quote or a run of spaces in a value is refused', () => {
  assert.throws(() => safeLine([t('kernel k a='), v('x" init=/bin/sh "')], 'cmdline'), /double quote/);
  assert.throws(() => safeLine([t('kernel k a='), v('x  y')], 'cmdline'), /several spaces/);
});

test('outside a cmdline, a value with a space is refused (it would add an argument)', () => {
  assert.throws(() => safeLine([t('initrd '), v('http://h/a http://evil/b', 'client.vars.u')], 'words'), /space/);
});

test('echoText neutralises everything our own refusal messages could carry', () => {
  const s = echoText('bad || shell && x ; y #c ${privkey}\nz\\');
  const parsed = parseIpxeScript(`#!ipxe\necho ${s}\n`);
  assert.equal(parsed.commands.length, 1);
  assert.equal(parsed.commands[0]!.argv[0], 'echo');
  assert.ok(!s.includes('${'));
});

test('isEchoSafe: a fixed text passes only when echo would print it exactly as written', () => {
  assert.equal(isEchoSafe("the certificate has been revoked (ipxe-farm revoke): issue a new one"), true);
  for (const bad of ['', 'a  b', 'a\nshell', 'a || shell', 'x ${net0/ip}', 'a #b', 'a ; b', 'ends\\', ' lead']) assert.equal(isEchoSafe(bad), false, JSON.stringify(bad));
});

// Found by the template fuzz (seed 2007973461): the profile's own "|| {{client.name}}" split the kernel command.
for (const w of ['||', '&&', ';', '#x']) {
  test(`the command line's own text holding the word ${w} is refused, not only a value's`, () => {
    assert.throws(() => safeLine([t('kernel --name kernel http://h/k '), t(`${w} `), v('dut1', 'client.name')], 'cmdline'), (e: unknown) => e instanceof UnsafeValueError && /cannot reach Linux/.test(e.message));
  });
}
