// code-server (VS Code 1.139.1 served to a browser) on loopback, in the sandbox, with the smoke-test driver enabled:
// without `enable-smoke-test-driver` the workbench silently ignores the extension-test payload.
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { startGroup, stopGroup } from './vscode-processes.mjs';

function serverArgs(sandbox) {
  return [
    '--auth', 'none',
    '--disable-telemetry',
    '--disable-update-check',
    ...(sandbox.workspaceTrust ? [] : ['--disable-workspace-trust']),
    '--disable-getting-started-override',
    '--user-data-dir', sandbox.dirs.userData,
    '--extensions-dir', sandbox.dirs.extensions,
  ];
}

/**
 * Ready means a connection is accepted, not only the "listening" line: a rehearsal once saw the workbench's first
 * connection refused right after that line (the log ended there). Tried for up to 5 s; a code-server that exits
 * meanwhile is reported with how it ended.
 */
async function acceptsConnections(port, group) {
  for (let attempt = 1; ; attempt++) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (group.exited) throw new Error(`code-server exited (${group.exitedWith}) right after it said it was listening on port ${port}`);
    if (attempt === 10) throw new Error(`code-server said it was listening on port ${port} but refused connections for 5 s`);
    process.stderr.write(`[vscode-test] code-server on port ${port} refused a connection (attempt ${attempt}); trying again in 0.5 s\n`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Starts code-server on 127.0.0.1 (a port the kernel picks) and resolves with its port and process group. */
export async function startCodeServer(cs, sandbox, { timeoutMs = 60_000 } = {}) {
  const args = [
    cs.entry,
    '--bind-addr', '127.0.0.1:0',
    ...serverArgs(sandbox),
    '--reconnection-grace-time', '5',
    '--vscode-option', 'enable-smoke-test-driver',
    // Extra flags for experiments (space-separated), e.g. --log trace
    ...(process.env.IPXE_FARM_CODE_SERVER_ARGS ?? '').split(' ').filter(Boolean),
  ];
  const { group, matched } = startGroup(cs.node.bin, args, {
    env: sandbox.env,
    cwd: sandbox.dirs.workspace,
    logFile: path.join(sandbox.dirs.logs, 'code-server.log'),
    ready: /HTTP server listening on https?:\/\/127\.0\.0\.1:(\d+)/,
    timeoutMs,
    what: 'code-server',
  });
  try {
    const m = await matched;
    const port = Number(m[1]);
    await acceptsConnections(port, group);
    return { port, group };
  } catch (err) {
    await stopGroup(group);
    throw err;
  }
}

export { stopGroup as stopCodeServer };

/** Runs the code-server CLI once (install/list extensions, --version) in the sandbox. */
export function codeServerCli(cs, sandbox, args, timeoutMs = 120_000) {
  const r = spawnSync(cs.node.bin, [cs.entry, ...serverArgs(sandbox), ...args], {
    env: sandbox.env,
    cwd: sandbox.dirs.workspace,
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
  });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

/** `code-server --version` prints "4.139.1 <commit> with Code 1.139.1": return the VS Code part. */
export function codeServerVersions(cs, sandbox) {
  const r = codeServerCli(cs, sandbox, ['--version'], 60_000);
  const m = /^(\S+)\s+\S+\s+with Code\s+(\S+)/m.exec(r.stdout);
  return m ? { codeServer: m[1], vscode: m[2] } : { codeServer: '?', vscode: '?' };
}
