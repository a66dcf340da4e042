import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repo, scopesOf, tokenize } from './support';

const SAMPLE = `#!ipxe
# board farm bootstrap
:retry_dhcp
dhcp || goto retry_dhcp
ntp pool.ntp.org && echo clock set
chain --autofree https://boot.example/ipxe/\${mac}?serial=\${serial:uristring}&arch=\${buildarch} || goto failed
kernel http://\${next-server}/vmlinuz console=ttyS0 "quoted \${uuid} arg"
imgverify vmlinuz http://10.0.2.2/vmlinuz.sig || goto failed
goto \${target}
:failed
echo Boot failed: \${errno}   # not a comment: # only starts a comment where a command would
shell`;

test('the iPXE grammar tokenizes a board-farm script: shebang, comments, labels, goto, settings, operators, options', async () => {
  const lines = await tokenize(SAMPLE);
  const at = (n: number) => lines[n]!;
  assert.ok(scopesOf(at(0), '#!').includes('comment.line.shebang.ipxe'));
  assert.ok(scopesOf(at(0), 'ipxe').includes('keyword.other.shebang.ipxe'));
  assert.ok(scopesOf(at(1), 'board farm bootstrap').includes('comment.line.number-sign.ipxe'));
  assert.ok(scopesOf(at(2), 'retry_dhcp').includes('entity.name.label.ipxe'));
  assert.ok(scopesOf(at(3), 'dhcp').includes('support.function.builtin.ipxe'));
  assert.ok(scopesOf(at(3), '||').includes('keyword.operator.logical.ipxe'));
  assert.ok(scopesOf(at(3), 'goto').includes('keyword.control.goto.ipxe'));
  assert.ok(scopesOf(at(3), 'retry_dhcp').includes('entity.name.label.reference.ipxe'));
  assert.ok(scopesOf(at(4), '&&').includes('keyword.operator.logical.ipxe'));
  assert.ok(scopesOf(at(4), 'echo').includes('support.function.builtin.ipxe'), 'a command after && is a command');
  assert.ok(scopesOf(at(5), '--autofree').includes('variable.parameter.option.ipxe'));
  assert.ok(scopesOf(at(5), 'mac').includes('variable.other.setting.ipxe'));
  assert.ok(scopesOf(at(5), 'uristring').includes('storage.type.setting.ipxe'));
  assert.ok(scopesOf(at(5), 'buildarch').includes('variable.other.setting.ipxe'));
  assert.ok(scopesOf(at(6), 'next-server').includes('variable.other.setting.ipxe'));
  const quoted = at(6).filter((t) => t.scopes.includes('string.quoted.double.ipxe'));
  assert.ok(quoted.some((t) => t.text === 'uuid' && t.scopes.includes('variable.other.setting.ipxe')), 'settings expand inside double quotes');
  assert.ok(scopesOf(at(7), 'imgverify').includes('support.function.builtin.ipxe'));
  assert.ok(!at(8).some((t) => t.scopes.includes('entity.name.label.reference.ipxe')), '`goto ${target}` is a setting, not a label');
  assert.ok(scopesOf(at(8), 'target').includes('variable.other.setting.ipxe'));
  assert.ok(!at(10).some((t) => t.scopes.includes('comment.line.number-sign.ipxe')), 'a # inside arguments is text');
  assert.ok(scopesOf(at(11), 'shell').includes('keyword.control.ipxe'));
});

test('a word that merely starts like a command is not a command', async () => {
  const [line] = await tokenize('dhcpx net0');
  assert.ok(!line!.some((t) => t.scopes.includes('support.function.builtin.ipxe')));
});

test('the language is declared for *.ipxe and for files whose first line is #!ipxe, with grammar and snippets', () => {
  const pkg = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8'));
  const lang = pkg.contributes.languages.find((l: { id: string }) => l.id === 'ipxe');
  assert.ok(lang, 'contributes.languages has ipxe');
  assert.ok(lang.extensions.includes('.ipxe'));
  assert.ok(new RegExp(lang.firstLine).test('#!ipxe'));
  assert.ok(!new RegExp(lang.firstLine).test('#!/bin/sh'));
  const grammar = pkg.contributes.grammars.find((g: { language: string }) => g.language === 'ipxe');
  assert.equal(grammar.scopeName, 'source.ipxe');
  const snip = pkg.contributes.snippets.find((s: { language: string }) => s.language === 'ipxe');
  assert.ok(snip);
  for (const p of [lang.configuration, grammar.path, snip.path]) JSON.parse(readFileSync(path.join(repo, p), 'utf8'));
});
