import * as vscode from 'vscode';
import { startBootService, BootService } from '../../core/boot';
import { clientScript } from '../../core/boot';
import { FarmError } from '../../core/errors';
import { profileOf } from '../../core/farm';
import { NginxConfigError } from '../../core/nginx';
import { generateNginxConfig } from '../../core/nginx';
import { runtimeFor, showNginxDiagnostics } from '../nginx/saveHook';
import type { NginxSaveHook } from '../nginx/saveHook';
import { signalOf } from '../cancel';
import { command, CommandContext, pickClient, refName, requireFarm, requireRoot } from './context';

/** nginx up/down/reload/logs and the boot service, each a call into src/core with its result in the Server tree. */
export function serverCommands(c: CommandContext, hook: NginxSaveHook): vscode.Disposable[] {
  let boot: BootService | undefined;
  const nginxAction = (title: string, fn: (signal: AbortSignal) => Promise<unknown>) =>
    vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (_p, token) => fn(signalOf(token)));

  return [
    command(c, 'ipxeFarm.generateNginxConfig', async (opts?: unknown) => {
      const force = (opts as { force?: boolean } | undefined)?.force ?? false;
      const files = await generateNginxConfig(await requireFarm(c), { force });
      c.out.nginx.info(`nginx configuration written: ${files.join(', ')}`);
      const doc = await vscode.workspace.openTextDocument(files[files.length - 1]!);
      await vscode.window.showTextDocument(doc, { preview: true });
      return files;
    }),
    command(c, 'ipxeFarm.startNginx', async () => {
      const h = await requireFarm(c);
      // A farm without its nginx configuration gets the generated one (after that the files are the user's).
      await generateNginxConfig(h).then((files) => c.out.nginx.info(`nginx configuration written: ${files.join(', ')}`), () => undefined);
      const rt = await runtimeFor(h);
      try {
        const st = await nginxAction(`Starting nginx (${rt.kind})`, (s) => rt.up(s)) as Awaited<ReturnType<typeof rt.up>>;
        hook.diagnostics.clear();
        c.server.setNginx(st.state, `${st.where} · https ${st.ports.https}`, st.runtime);
        c.out.nginx.info(`nginx ${st.state}: ${st.where}, https ${st.ports.https}, http ${st.ports.http}`);
        return st;
      } catch (err) {
        if (err instanceof NginxConfigError) { showNginxDiagnostics(hook.diagnostics, err.diagnostics); c.server.setNginx('config-error', 'not started'); }
        throw err;
      }
    }),
    command(c, 'ipxeFarm.stopNginx', async () => {
      const rt = await runtimeFor(await requireFarm(c));
      const st = await nginxAction('Stopping nginx', (s) => rt.down(s)) as Awaited<ReturnType<typeof rt.down>>;
      c.server.setNginx(st.state, '', st.runtime);
      c.out.nginx.info(`nginx ${st.state}`);
      return st;
    }),
    command(c, 'ipxeFarm.reloadNginx', async () => {
      const rt = await runtimeFor(await requireFarm(c));
      const r = await rt.reload();
      showNginxDiagnostics(hook.diagnostics, r.diagnostics);
      if (!r.ok) {
        c.server.setNginx('config-error', 'running config kept');
        throw new FarmError('nginx -t failed, so nginx was not reloaded: the running config stays.', 'See the Problems panel, fix the file and save.', 'ENGINXCONF');
      }
      c.server.setNginx('running', 'reloaded');
      c.out.nginx.info(`nginx reloaded (${Math.round(r.durationMs)} ms)`);
      return r;
    }),
    command(c, 'ipxeFarm.nginxStatus', async () => {
      const rt = await runtimeFor(await requireFarm(c));
      const st = await rt.status();
      c.server.setNginx(st.state, st.detail ?? st.where, st.runtime);
      return st;
    }),
    command(c, 'ipxeFarm.showNginxLogs', async () => {
      c.out.nginx.show(true);
      if (!c.state.root) return undefined;
      const text = await (await runtimeFor(await requireFarm(c))).logs(200).catch((e: Error) => `(no logs: ${e.message})`);
      c.out.nginx.info(`--- last nginx log lines ---\n${text}`);
      return text;
    }),
    command(c, 'ipxeFarm.startBootService', async () => {
      const root = requireRoot(c);
      if (boot) { void vscode.window.showInformationMessage(`The boot service already runs on ${boot.socket}.`); return boot.socket; }
      boot = await startBootService({ root, log: (l) => c.out.boot.info(l) });
      c.server.setBoot('running', boot.socket);
      c.out.boot.info(`boot service listening on ${boot.socket}`);
      return boot.socket;
    }),
    command(c, 'ipxeFarm.stopBootService', async () => {
      if (!boot) { c.server.setBoot('stopped'); return false; }
      await boot.close();
      boot = undefined;
      c.server.setBoot('stopped');
      c.out.boot.info('boot service stopped');
      return true;
    }),
    { dispose: () => { void boot?.close(); } },
    command(c, 'ipxeFarm.showScript', async (arg?: unknown) => {
      const loaded = await requireFarm(c);
      const name = refName(arg) ?? await pickClient(loaded, 'Show the boot script of…');
      if (!name) return undefined;
      // The same checks as `ipxe-farm script` (a revoked client gets none); shown on screen and maybe screen-shared, so
      // secret values are masked: the machine gets them over mTLS only.
      const { explanation: e, script, note } = await clientScript(loaded.root, name, { mac: loaded.farm.clients[name]?.macs[0] });
      const profile = e.decision.ok ? e.decision.profile : profileOf(loaded.farm, loaded.farm.clients[name]);
      const masked = `#!ipxe\n# What ${name} receives from the boot service (profile ${profile}); secret values masked here.${note ? `\n# ${note}` : ''}\n${script.replace(/^#!ipxe\r?\n/, '')}`;
      const doc = await vscode.workspace.openTextDocument({ language: 'ipxe', content: masked });
      await vscode.window.showTextDocument(doc, { preview: true });
      return masked;
    }),
  ];
}
