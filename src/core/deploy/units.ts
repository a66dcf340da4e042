import * as path from 'node:path';
import type { FarmLayout, Farm, NginxRuntimeKind } from '../farm/light';
import { bootSocketAccess } from '../socket/light';
import { pkiPaths } from '../pki/light';

export type DeployKind = 'systemd' | 'quadlet';

export interface DeployOptions {
  /** The ipxe-farm program on the server. */
  bin?: string;
  podman?: string;
  /** The runtime serving the farm (an opened farm's runtime.kind); absent: the farm file's (tests of plain farms). */
  runtime?: NginxRuntimeKind;
}

export interface UnitFile {
  name: string;
  text: string;
}

/** systemd needs absolute, space-free paths on Exec lines; refuse anything else rather than write a unit that misparses. */
export function unitPath(p: string): string {
  if (!path.isAbsolute(p) || /[\s"'\\$%;]/.test(p)) {
    throw new Error(`The path ${JSON.stringify(p)} cannot go into a systemd unit: use an absolute path without spaces, quotes, $, % or ;.`);
  }
  return p;
}

export function unitNames(farm: Farm) {
  return { boot: `ipxe-farm-${farm.name}-boot`, nginx: `ipxe-farm-${farm.name}-nginx` };
}

/**
 * systemd holds the boot service's socket, so it outlives every restart of the service: nginx's boots wait in the
 * socket's backlog for the new process instead of failing with 502 (measured: 110 of 800 boots failed across five
 * restarts without it, none with it). The folders get the modes the service itself gives them (socketPath.ts): a
 * local nginx's worker group may pass; for podman the runtime folder stays 0700 and the socket folder is reachable
 * only through its mount in the farm's container.
 */
function bootSocket(farm: Farm, layout: FarmLayout, runtime: NginxRuntimeKind): UnitFile {
  const names = unitNames(farm);
  const access = bootSocketAccess(farm, runtime);
  const group = access.kind === 'group' ? access.group : undefined;
  const prepare = access.kind === 'container'
    ? [
        `ExecStartPre=/usr/bin/install -d -m 0700 ${unitPath(layout.runtime)}`,
        `ExecStartPre=/usr/bin/install -d -m 0711 ${unitPath(layout.socketDir)}`,
      ]
    : group
      ? [
          `ExecStartPre=/usr/bin/install -d -m 0710 -g ${group} ${unitPath(layout.runtime)}`,
          `ExecStartPre=/usr/bin/install -d -m 0750 -g ${group} ${unitPath(layout.socketDir)}`,
        ]
      : [`ExecStartPre=/usr/bin/install -d -m 0750 ${unitPath(layout.socketDir)}`];
  const mode = access.kind === 'container' ? '0666' : '0660';
  return {
    name: `${names.boot}.socket`,
    text: `# Written by \`ipxe-farm deploy\`: the boot service's unix socket, held by systemd across service restarts.
[Unit]
Description=iPXE Farm boot service socket (${farm.name})
PartOf=${names.boot}.service

[Socket]
${prepare.join('\n')}
ListenStream=${unitPath(layout.bootSocket)}
SocketMode=${mode}
${group ? `SocketGroup=${group}\n` : ''}Backlog=1024

[Install]
WantedBy=sockets.target
`,
  };
}

/** Where the container's copies of the four PKI files nginx reads live (never the CA key), as the podman runtime does. */
function pkiView(layout: FarmLayout): string {
  return path.join(layout.runtime, 'nginx-podman', 'pki');
}

function pkiCopies(layout: FarmLayout): string[] {
  const pki = pkiPaths(layout);
  const view = pkiView(layout);
  return [pki.caCert, pki.crlPem, pki.serverChain, pki.serverKey].map((src) => {
    const dest = path.join(view, path.relative(pki.dir, src));
    const mode = src === pki.serverKey ? '0600' : '0644';
    return `ExecStartPre=/usr/bin/install -D -m ${mode} ${unitPath(src)} ${unitPath(dest)}`;
  });
}

function mounts(layout: FarmLayout): string[] {
  const prefix = path.join(layout.runtime, 'nginx-podman');
  return [
    `${layout.nginx}:${layout.nginx}:ro`,
    `${layout.files}:${layout.files}:ro`,
    `${pkiView(layout)}:${layout.pki}:ro`,
    // The socket folder is shared read-write: nginx connects to the boot service's socket there.
    `${layout.socketDir}:${layout.socketDir}`,
    `${prefix}:${prefix}`,
  ].map(unitPath);
}

function nginxCommand(layout: FarmLayout): string[] {
  const prefix = path.join(layout.runtime, 'nginx-podman');
  return ['nginx', '-p', `${prefix}/`, '-c', path.join(layout.nginx, 'nginx.conf'), '-e', '/dev/stderr', '-g', `'daemon off; pid ${prefix}/nginx.pid; user nginx;'`];
}

function ports(farm: Farm): string[] {
  return [farm.server.httpsPort, farm.server.httpPort].map((p) => `${p}:${p}`);
}

function bootService(farm: Farm, layout: FarmLayout, opts: DeployOptions): UnitFile {
  const names = unitNames(farm);
  const bin = unitPath(opts.bin ?? '/usr/local/bin/ipxe-farm');
  return {
    name: `${names.boot}.service`,
    text: `# Written by \`ipxe-farm deploy\`: the boot service of farm "${farm.name}" (per-machine iPXE scripts over a unix socket).
[Unit]
Description=iPXE Farm boot service (${farm.name})
Requires=${names.boot}.socket
After=local-fs.target ${names.boot}.socket
Before=${names.nginx}.service

[Service]
Type=simple
ExecStart=${bin} serve --farm ${unitPath(layout.root)}
Restart=on-failure
RestartSec=2
# The farm is read-only to the service; it writes only its socket and the boot-events log under .ipxe-farm/.
ProtectSystem=strict
ReadOnlyPaths=${unitPath(layout.root)}
ReadWritePaths=${unitPath(layout.runtime)}
PrivateTmp=yes
NoNewPrivileges=yes
UMask=0027

[Install]
WantedBy=multi-user.target
`,
  };
}

function systemdNginx(farm: Farm, layout: FarmLayout, opts: DeployOptions): UnitFile {
  const names = unitNames(farm);
  const podman = unitPath(opts.podman ?? '/usr/bin/podman');
  const container = farm.nginx.container;
  const common = [...mounts(layout).flatMap((m) => ['-v', m])];
  return {
    name: `${names.nginx}.service`,
    text: `# Written by \`ipxe-farm deploy\`: nginx (podman) terminating mutual TLS for farm "${farm.name}".
[Unit]
Description=iPXE Farm nginx (${farm.name}, podman)
Wants=network-online.target ${names.boot}.service
After=network-online.target ${names.boot}.service

[Service]
Type=simple
${pkiCopies(layout).join('\n')}
ExecStartPre=-${podman} rm -f --ignore ${container}
# A broken configuration stops here, with nginx -t's message in the journal, instead of starting a dead container.
ExecStartPre=${podman} run --rm --network none ${common.join(' ')} ${farm.nginx.image} ${nginxCommand(layout).join(' ')} -t -q
ExecStart=${podman} run --rm --name ${container} ${common.join(' ')} ${ports(farm).map((p) => `-p ${p}`).join(' ')} ${farm.nginx.image} ${nginxCommand(layout).join(' ')}
ExecReload=${podman} exec ${container} ${nginxCommand(layout).join(' ')} -s reload
ExecStop=${podman} stop -t 10 ${container}
Restart=on-failure
RestartSec=3

[Install]
WantedBy=multi-user.target
`,
  };
}

function quadletNginx(farm: Farm, layout: FarmLayout): UnitFile[] {
  const names = unitNames(farm);
  const container: UnitFile = {
    name: `${names.nginx}.container`,
    text: `# Written by \`ipxe-farm deploy\`: a podman quadlet; install into /etc/containers/systemd/ and \`systemctl daemon-reload\`.
[Unit]
Description=iPXE Farm nginx (${farm.name}, podman quadlet)
Wants=${names.boot}.service ${names.nginx}-pki.service
After=${names.boot}.service ${names.nginx}-pki.service

[Container]
ContainerName=${farm.nginx.container}
Image=${farm.nginx.image}
${mounts(layout).map((m) => `Volume=${m}`).join('\n')}
${ports(farm).map((p) => `PublishPort=${p}`).join('\n')}
Exec=${nginxCommand(layout).join(' ')}

[Service]
Restart=on-failure
RestartSec=3

[Install]
WantedBy=multi-user.target
`,
  };
  const pki: UnitFile = {
    name: `${names.nginx}-pki.service`,
    text: `# Written by \`ipxe-farm deploy\`: copies the four PKI files nginx reads (never the CA key) for the container.
[Unit]
Description=iPXE Farm nginx PKI copies (${farm.name})

[Service]
Type=oneshot
${pkiCopies(layout).map((l) => l.replace('ExecStartPre=', 'ExecStart=')).join('\n')}
`,
  };
  return [container, pki];
}

/** The Prometheus exporter: reads the farm's records only, listens where the farm file says (loopback by default). */
function metricsService(farm: Farm, layout: FarmLayout, opts: DeployOptions): UnitFile {
  const bin = unitPath(opts.bin ?? '/usr/local/bin/ipxe-farm');
  return {
    name: `ipxe-farm-${farm.name}-metrics.service`,
    text: `# Written by \`ipxe-farm deploy\`: boot metrics for Prometheus (${farm.metrics?.listen ?? '127.0.0.1:9464'}, set by /metrics/listen).
[Unit]
Description=iPXE Farm metrics (${farm.name})
After=local-fs.target

[Service]
Type=simple
ExecStart=${bin} metrics --farm ${unitPath(layout.root)}
Restart=on-failure
RestartSec=2
ProtectSystem=strict
ReadOnlyPaths=${unitPath(layout.root)}
PrivateTmp=yes
NoNewPrivileges=yes

[Install]
WantedBy=multi-user.target
`,
  };
}

/** The units for a server: the boot service (host, systemd) and nginx (podman), sharing the socket folder; metrics. */
export function deployUnits(farm: Farm, layout: FarmLayout, kind: DeployKind, opts: DeployOptions = {}): UnitFile[] {
  const boot = [bootService(farm, layout, opts), bootSocket(farm, layout, opts.runtime ?? farm.nginx.runtime)];
  const nginx = kind === 'systemd' ? [systemdNginx(farm, layout, opts)] : quadletNginx(farm, layout);
  return [...boot, ...nginx, metricsService(farm, layout, opts)];
}
