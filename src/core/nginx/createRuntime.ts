import type { FarmLayout } from '../farm/layout';
import type { Farm, NginxRuntimeKind } from '../farm/model';
import { loadFarm } from '../farm/load';
import { effectiveRuntimeKind } from './runtimeKind';
import { LocalNginxRuntime } from './localRuntime';
import { PodmanNginxRuntime } from './podmanRuntime';
import type { NginxRuntime } from './runtime';

export { effectiveRuntimeKind };

export function createNginxRuntime(farm: Farm, layout: FarmLayout, kind: NginxRuntimeKind = effectiveRuntimeKind(farm)): NginxRuntime {
  // The local runtime reads farm.nginx.runtime for its worker user and listen address: give it the kind it runs as.
  const as = kind === farm.nginx.runtime ? farm : { ...farm, nginx: { ...farm.nginx, runtime: kind } };
  return kind === 'podman' ? new PodmanNginxRuntime(as, layout) : new LocalNginxRuntime(as, layout);
}

export async function loadNginxRuntime(root: string, kind?: NginxRuntimeKind): Promise<NginxRuntime> {
  const { farm, layout } = await loadFarm(root);
  return createNginxRuntime(farm, layout, kind);
}
