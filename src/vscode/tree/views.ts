import * as vscode from 'vscode';
import type { CertKind } from '../../core/pki/light';
import { caGroupChildren, caRoots } from '../model/certItems';
import { clientCertMap, clientDetails, clientNames, clientShape, ClientsView } from '../model/clientItems';
import { mappingRoots, profileDetails, profileUsers } from '../model/mappingItems';
import type { Shape } from '../model/shape';
import type { FarmState } from '../state';
import type { ServerStatus } from '../serverStatus';
import { ShapeTree } from './shapeTree';

const problemRow = (id: string, label: string, why: string): Shape => ({
  id, label, description: why, tooltip: why, contextValue: 'problem', icon: 'error', iconColor: 'list.errorForeground', collapsible: 'none', open: { file: 'ipxe-farm.json' },
});

export interface FarmViews {
  ca: ShapeTree;
  clients: ShapeTree;
  mappings: ShapeTree;
}

/** The three trees of the "iPXE Farm" container, all views of the one FarmState snapshot. */
export function createViews(state: FarmState, server: ServerStatus): { views: FarmViews; disposables: vscode.Disposable[] } {
  const root = () => state.root;
  let clientsView: ClientsView | undefined;
  const clientsOf = (): ClientsView | undefined => {
    const s = state.snapshot;
    if (!s?.loaded) return undefined;
    if (!clientsView || clientsView.farm !== s.loaded.farm || clientsView.lastBoots !== s.lastBoots || clientsView.health !== s.health) {
      clientsView = { farm: s.loaded.farm, certs: clientCertMap(s.index), lastBoots: s.lastBoots, health: s.health, images: s.images, imageDetail: s.imageDetail, now: Date.now() };
    }
    return clientsView;
  };

  const ca = new ShapeTree(() => {
    const s = state.snapshot;
    if (!s) return [];
    const rows = caRoots(s.index, Date.now());
    return s.indexError ? [problemRow('ca:error', 'PKI index unreadable', s.indexError), ...rows] : rows;
  }, (parent) => (parent.ref?.kind === 'group' && state.snapshot ? caGroupChildren(state.snapshot.index, parent.ref.name as CertKind, Date.now()) : []), root);

  const clients = new ShapeTree(() => {
    const s = state.snapshot;
    if (!s) return [];
    if (!s.loaded) return [problemRow('clients:error', 'Farm file has problems', s.farmError ?? '')];
    const v = clientsOf()!;
    const names = clientNames(v.farm);
    if (names.length === 0) return [{ id: 'clients:none', label: 'No clients yet', description: 'Add Client…', contextValue: 'clients.none', icon: 'info', collapsible: 'none' }];
    return names.map((n) => clientShape(n, v));
  }, (parent) => {
    const v = clientsOf();
    return v && parent.ref?.kind === 'client' ? clientDetails(parent.ref.name, v) : [];
  }, root);

  // The server's state heads the Boot Mappings view: what nginx and the boot service serve is these mappings.
  const serverGroup = (): Shape => ({
    id: 'server', label: 'Server', description: `${state.snapshot?.loaded ? server.runtimeOf(state.snapshot.loaded) : ''} · nginx ${server.nginx === 'unknown' ? '?' : server.nginx} · boot service ${server.boot}`,
    contextValue: `server.${server.nginx}`, icon: 'server-environment', collapsible: 'expanded', ref: { kind: 'server', name: 'server' },
  });
  const mappings = new ShapeTree(() => {
    const s = state.snapshot;
    if (!s) return [];
    if (!s.loaded) return [problemRow('mappings:error', 'Farm file has problems', s.farmError ?? '')];
    return [serverGroup(), ...mappingRoots(s.loaded.farm)];
  }, (parent) => {
    const loaded = state.snapshot?.loaded;
    if (!loaded) return [];
    const { farm } = loaded;
    if (parent.id === 'server') return server.rows(loaded);
    if (parent.ref?.kind !== 'profile' || !farm.profiles[parent.ref.name]) return [];
    return profileDetails(parent.ref.name, farm.profiles[parent.ref.name]!, profileUsers(farm).get(parent.ref.name) ?? []);
  }, root);

  const views: FarmViews = { ca, clients, mappings };
  const disposables: vscode.Disposable[] = [
    vscode.window.createTreeView('ipxeFarm.ca', { treeDataProvider: ca, showCollapseAll: true }),
    vscode.window.createTreeView('ipxeFarm.clients', { treeDataProvider: clients, showCollapseAll: true, canSelectMany: true }),
    vscode.window.createTreeView('ipxeFarm.mappings', { treeDataProvider: mappings, showCollapseAll: true }),
    state.onDidChange(() => { clientsView = undefined; ca.refresh(); clients.refresh(); mappings.refresh(); }),
    server.onDidChange(() => mappings.refresh()),
  ];
  return { views, disposables };
}
