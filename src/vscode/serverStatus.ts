import * as vscode from 'vscode';
import type { NginxRuntimeKind } from '../core/farm/light';
import type { FarmHandle } from '../core/farm/light';
import type { Shape } from './model/shape';

export type NginxView = 'unknown' | 'stopped' | 'running' | 'exited' | 'config-error' | 'reloading';
export type BootView = 'stopped' | 'running';

/**
 * What the editor knows about the running parts: nginx's last reported state and whether this window runs the boot
 * service. Updated by the commands and the save hook (no polling); the Server tree and the status bar show it.
 */
export class ServerStatus implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  nginx: NginxView = 'unknown';
  nginxDetail = '';
  boot: BootView = 'stopped';
  bootSocket = '';
  /** The runtime nginx last reported running under (its run record), which can differ from the farm file's. */
  nginxRuntime: NginxRuntimeKind | undefined;

  setNginx(state: NginxView, detail = '', runtime?: NginxRuntimeKind): void {
    this.nginx = state;
    this.nginxDetail = detail;
    if (runtime) this.nginxRuntime = runtime;
    this.changed.fire();
  }

  /** What the Server view and status bar name: the runtime nginx last reported, else the one the opened farm resolved. */
  runtimeOf(h: Pick<FarmHandle, 'runtime'>): NginxRuntimeKind {
    return this.nginxRuntime ?? h.runtime.kind;
  }

  setBoot(state: BootView, socket = ''): void {
    this.boot = state;
    this.bootSocket = socket;
    this.changed.fire();
  }

  rows(h: FarmHandle): Shape[] {
    const { farm } = h;
    const ng = this.nginx;
    const row = (id: string, label: string, description: string, icon: string, contextValue: string, color?: string, tooltip?: string): Shape =>
      ({ id: `server:${id}`, label, description, icon, iconColor: color, contextValue, collapsible: 'none', tooltip, ref: { kind: 'server', name: id } });
    return [
      row('runtime', 'Runtime', this.runtimeOf(h) === 'podman' ? `podman (${farm.nginx.container})` : 'local nginx', 'server-environment', 'server.runtime'),
      row('ports', 'Ports', `https ${farm.server.httpsPort} · http ${farm.server.httpPort} · ${farm.server.address}`, 'plug', 'server.ports'),
      row('nginx', 'nginx', ng === 'unknown' ? 'not checked yet' : ng + (this.nginxDetail ? ` · ${this.nginxDetail}` : ''), ng === 'running' ? 'pass-filled' : ng === 'config-error' || ng === 'exited' ? 'error' : 'circle-outline',
        `server.nginx.${ng}`, ng === 'running' ? 'testing.iconPassed' : ng === 'config-error' || ng === 'exited' ? 'list.errorForeground' : undefined, this.nginxDetail),
      row('boot', 'Boot service', this.boot === 'running' ? `running · ${this.bootSocket}` : 'stopped', this.boot === 'running' ? 'pass-filled' : 'circle-outline', `server.boot.${this.boot}`,
        this.boot === 'running' ? 'testing.iconPassed' : undefined),
    ];
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/** Status bar: runtime + state; a click opens the nginx log channel. */
export function statusBarItem(status: ServerStatus, runtime: () => string | undefined, farmChanged: vscode.Event<unknown>): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('ipxeFarm.status', vscode.StatusBarAlignment.Left, 10);
  item.name = 'iPXE Farm';
  item.command = 'ipxeFarm.showNginxLogs';
  const update = () => {
    const rt = runtime();
    if (!rt) { item.hide(); return; }
    const icon = status.nginx === 'running' ? '$(pass-filled)' : status.nginx === 'config-error' || status.nginx === 'exited' ? '$(error)' : status.nginx === 'reloading' ? '$(sync~spin)' : '$(circle-outline)';
    item.text = `${icon} iPXE ${rt}: ${status.nginx === 'unknown' ? 'nginx ?' : `nginx ${status.nginx}`}${status.boot === 'running' ? ' · boot ✓' : ''}`;
    item.tooltip = `iPXE Farm: nginx (${rt}) ${status.nginx}${status.nginxDetail ? ` — ${status.nginxDetail}` : ''}; boot service ${status.boot}. Click for the nginx logs.`;
    item.backgroundColor = status.nginx === 'config-error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    item.show();
  };
  update();
  const subs = [status.onDidChange(update), farmChanged(update)];
  return { dispose: () => { for (const s of subs) s.dispose(); item.dispose(); } };
}
