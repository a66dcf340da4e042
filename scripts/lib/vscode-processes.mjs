// Child processes of the harness, each in its own process group so that one kill ends it and everything it spawned
// (code-server's extension host, chromium's renderers), on success, failure and timeout alike.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';

const live = new Set();

/**
 * Starts `cmd` detached (a new process group) with its output copied to `logFile`, and resolves once a line of its
 * output matches `ready` (resolving with the match) — or rejects, naming the log, if it exits or `timeoutMs` passes.
 */
export function startGroup(cmd, args, { env, cwd, logFile, ready, timeoutMs, what }) {
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(cmd, args, { env, cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const group = { child, what, log, exited: false };
  live.add(group);
  child.on('exit', (code, signal) => {
    group.exited = true;
    group.exitedWith = signal ?? code;
    // Said in its log, so a process that dies after it was ready leaves a trace for the run that failed on it.
    if (!log.writableEnded) log.write(`\n[harness] ${what} exited (${signal ?? code}) at ${new Date().toISOString()}\n`);
  });
  const matched = new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start within ${timeoutMs / 1000} s: see ${logFile}`)), timeoutMs);
    const onData = (d) => {
      log.write(d);
      seen = (seen + d.toString()).slice(-8192);
      const m = ready.exec(seen);
      if (m) { clearTimeout(timer); resolve(m); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => { clearTimeout(timer); reject(new Error(`${what} could not start (${err.message})`)); });
    child.on('exit', (code, signal) => { clearTimeout(timer); reject(new Error(`${what} exited (${signal ?? code}) before it was ready: see ${logFile}`)); });
  });
  return { group, matched };
}

/** SIGTERM to the whole group, SIGKILL after a grace period; resolves when the group leader is gone. */
export async function stopGroup(group, graceMs = 3000) {
  if (!group) return;
  live.delete(group);
  const pgid = group.child.pid;
  const signal = (sig) => { try { process.kill(-pgid, sig); } catch { /* already gone */ } };
  if (pgid) {
    signal('SIGTERM');
    const gone = new Promise((r) => (group.exited ? r() : group.child.once('exit', r)));
    const timedOut = await Promise.race([gone.then(() => false), new Promise((r) => setTimeout(() => r(true), graceMs))]);
    // Stragglers in the group (renderers, the extension host) may outlive the leader: always finish with SIGKILL.
    signal('SIGKILL');
    if (timedOut) await Promise.race([gone, new Promise((r) => setTimeout(r, 1000))]);
  }
  group.log.end();
}

/** Tracks a child started elsewhere (detached) so that killAllGroupsNow() ends its group too; returns its group. */
export function adopt(child, what) {
  const group = { child, what, log: { end() {} }, exited: false };
  child.on('exit', () => { group.exited = true; });
  live.add(group);
  return group;
}

/** Last resort when the harness itself is interrupted: no orphaned code-server or chromium left behind. */
export function killAllGroupsNow() {
  for (const g of live) { try { process.kill(-g.child.pid, 'SIGKILL'); } catch { /* gone */ } }
  live.clear();
}
