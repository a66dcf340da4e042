import * as vscode from 'vscode';
import type { FarmPrograms } from '../core/farm/light';

/** The user's program paths and choices (contributes.configuration, section ipxeFarm). */
export interface FarmSettings {
  podmanPath: string;
  nginxPath: string;
  qemuPath: string;
  ipxeSource: string;
  accel: 'auto' | 'kvm' | 'tcg';
  reloadOnSave: boolean;
}

export function settings(): FarmSettings {
  const c = vscode.workspace.getConfiguration('ipxeFarm');
  return {
    podmanPath: c.get<string>('podmanPath') || 'podman',
    nginxPath: c.get<string>('nginxPath') || 'nginx',
    qemuPath: c.get<string>('qemuPath') || 'qemu-system-x86_64',
    ipxeSource: c.get<string>('ipxeSource') || '',
    accel: c.get<'auto' | 'kvm' | 'tcg'>('accel') || 'auto',
    reloadOnSave: c.get<boolean>('nginx.reloadOnSave') ?? true,
  };
}

/** Program paths for an opened farm: ipxeFarm.nginxPath / podmanPath (machine-scoped, so a workspace cannot point them elsewhere). */
export function editorPrograms(): FarmPrograms {
  const s = settings();
  return { nginx: s.nginxPath, podman: s.podmanPath };
}
