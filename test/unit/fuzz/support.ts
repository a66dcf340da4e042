import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseIpxeScript } from '../boot/ipxeParse';

/** Every property run stops after this long, whatever numRuns says: a bounded fuzz, a few seconds per edge. */
export const FUZZ = { numRuns: 300, interruptAfterTimeLimit: 4000 } as const;

/** Characters iPXE's parser and a Linux command line treat specially, mixed with plain ones and a little Unicode. */
export const RISKY = ['||', '&&', ';', '#', '${', '}', '${net0/ip}', '\\', '"', "'", ' ', '  ', '\t', '\n', '\r', '\u0000', '\u007f', '{{', '}}', 'é', '…', '/', '..', ':', '%', '?'];

/**
 * A script iPXE would run exactly as meant: a `#!ipxe` first line, no control character but the line ends, no line
 * continued with `\`, and every line one command (no `||`, `&&` or `;` word splitting it), whose name is one of `verbs`.
 */
export function assertWellFormedScript(script: string, verbs: readonly string[]): void {
  assert.ok(script.startsWith('#!ipxe\n'), 'a script starts with #!ipxe');
  assert.doesNotMatch(script, /[\u0000-\u0009\u000b-\u001f\u007f]/, 'no control character but line ends');
  const lines = script.split('\n').filter((l) => l.length > 0 && !l.startsWith('#'));
  for (const l of lines) assert.ok(!l.endsWith('\\'), `no continued line: ${JSON.stringify(l)}`);
  const { commands } = parseIpxeScript(script);
  assert.equal(commands.length, lines.length, `one command per line:\n${script}`);
  for (const c of commands) assert.ok(verbs.includes(c.argv[0]!), `unexpected command ${JSON.stringify(c.argv[0])} in:\n${script}`);
}

/** A refusal is one sentence a person can read: some words, no stack trace, no secret. */
export function assertSentence(message: string, secrets: string[]): void {
  assert.ok(message.trim().length > 10, `a sentence, not ${JSON.stringify(message)}`);
  assert.doesNotMatch(message, /\n\s+at /, 'no stack trace');
  for (const s of secrets) assert.ok(!message.includes(s), `the message shows a secret: ${message}`);
}

/** A MAC address in colon form (fast-check has no MAC arbitrary). */
export const macArb = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':'));

/** Text with control characters and the words iPXE gives meaning to, often. */
export const riskyArb = fc.oneof(
  fc.string({ maxLength: 12, unit: 'binary-ascii' }),
  fc.constantFrom(...RISKY),
  fc.array(fc.constantFrom(...RISKY, 'a', '0', '.', '-'), { maxLength: 6 }).map((a) => a.join('')),
);
