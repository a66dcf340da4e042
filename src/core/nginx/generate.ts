import * as os from 'node:os';
import * as path from 'node:path';
import { FarmError } from '../errors';
import { ensureDir, exists, writeFileAtomic } from '../fs/light';
import type { FarmLayout, Farm, NginxRuntimeKind, FarmHandle } from '../farm/light';
import { REFUSED_HEADLINE, isEchoSafe } from '../ipxe/light';
import { pkiPaths } from '../pki/light';
import { nginxPaths } from './paths';

/** Both iPXE builds we support can use these (DESIGN §2); Mozilla "intermediate" breaks the 2019 build. */
export const IPXE_SSL_PROTOCOLS = 'TLSv1.2';
export const IPXE_SSL_CIPHERS = 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:AES256-SHA256:AES128-SHA256:AES256-SHA:AES128-SHA';

/** The boot service's routes; everything else on the HTTPS port is refused. */
export const BOOT_ROUTES = ['= /boot.ipxe', '= /ipxe', '/ipxe/', '= /why.ipxe'] as const;
export const BOOT_UPSTREAM = 'ipxefarm_boot';
/** Secret files' one-time URLs (/secret/TOKEN): routed to the boot service, logged without the token. */
export const SECRET_LOCATION = '^~ /secret/';

/**
 * Why nginx refused a client certificate, by the value of $ssl_client_verify (OpenSSL's verify error after "FAILED:"),
 * in fixed words for the person at the console. Only these texts ever reach a script: nothing from the certificate
 * or the request, so a crafted certificate cannot add an iPXE command. "~" keys are nginx regular expressions.
 */
export const TLS_REFUSAL_REASONS: ReadonlyArray<readonly [match: string, reason: string]> = [
  ['NONE', 'no client certificate was presented: boot an image built by ipxe-farm build, which carries one'],
  ['FAILED:certificate revoked', 'the certificate has been revoked (ipxe-farm revoke): issue a new one and rebuild the image'],
  ['FAILED:certificate has expired', 'the certificate has expired: issue a new one and rebuild the image, or check the clock'],
  ['FAILED:certificate is not yet valid', 'the certificate is not valid yet: check this machine\'s clock (or set ipxe.ntp in the farm)'],
  // nginx lets OpenSSL go on after an error and reports the last one: a self-signed certificate ends on "no CRL for
  // its issuer", since the farm's CRL is only the farm CA's.
  ['~^FAILED:(unable to get local issuer certificate|unable to verify the first certificate|self.signed certificate|unable to get certificate CRL)', 'the certificate was not issued by this farm\'s CA: build the image from this farm'],
  ['~^FAILED:(unsuitable|unsupported) certificate purpose', 'the certificate is not a client certificate: issue one with ipxe-farm issue client'],
  ['FAILED:CRL has expired', 'the farm\'s revocation list has expired: run ipxe-farm crl on the boot server'],
];
export const TLS_REFUSAL_DEFAULT = 'the certificate was not accepted: verify= in the boot server\'s nginx access log says why';
const TLS_REFUSAL_VAR = '$ipxefarm_tls_refusal';

/** A fixed text as an nginx string that iPXE echoes as written: no quote, backslash or $ for nginx, nothing for iPXE. */
function fixedText(text: string): string {
  if (!isEchoSafe(text) || /["\\$]/.test(text)) throw new Error(`Internal error: "${text}" cannot be written as an iPXE echo line in nginx.conf.`);
  return `"${text}"`;
}

/** The whole #!ipxe script nginx answers with, as one nginx string ("\n" is nginx's own escape for a new line). */
function tlsRefusalScript(exitCode: 0 | 1): string {
  return `"#!ipxe\\necho ${fixedText(REFUSED_HEADLINE).slice(1, -1)}\\necho ${TLS_REFUSAL_VAR}\\nexit ${exitCode}\\n"`;
}

function tlsRefusalMap(): string {
  const rows = [...TLS_REFUSAL_REASONS, ['default', TLS_REFUSAL_DEFAULT] as const];
  const key = (k: string) => (k === 'default' || /^[A-Z]+$/.test(k) ? k : `"${k}"`);
  return `map $ssl_client_verify ${TLS_REFUSAL_VAR} {\n${rows.map(([k, r]) => `    ${key(k)}\n        ${fixedText(r)};`).join('\n')}\n}`;
}

export interface GeneratedFile {
  file: string;
  text: string;
}

/** Whether one of this machine's interfaces sits in QEMU's user-network subnet 10.0.2.0/24 (a real LAN can). */
function hostInSlirpSubnet(): boolean {
  return Object.values(os.networkInterfaces()).some((list) => (list ?? []).some((i) => i.family === 'IPv4' && /^10\.0\.2\.\d+$/.test(i.address)));
}

/**
 * A server address that only this machine reaches: QEMU's user networking maps 10.0.2.2 to the host's loopback, and
 * any other 10.0.2.x (but the guest's own .15) exists only as a guestfwd relay to 127.0.0.1 — unless this machine
 * really has an interface in 10.0.2.0/24, in which case it is a LAN address like any other. A farm addressed that way
 * (the starter farm, the demo, the tests) needs nginx on 127.0.0.1 only, never on every interface.
 */
export function isLoopbackAddress(address: string, slirpIsLan = hostInSlirpSubnet()): boolean {
  if (address === 'localhost' || address === '::1' || address === '10.0.2.2' || /^127\.\d+\.\d+\.\d+$/.test(address)) return true;
  return /^10\.0\.2\.\d+$/.test(address) && address !== '10.0.2.15' && !slirpIsLan;
}

/** The loopback address nginx should bind for a loopback farm, or undefined for every address. */
export function loopbackHost(address: string): '127.0.0.1' | '::1' | undefined {
  if (!isLoopbackAddress(address)) return undefined;
  return address === '::1' ? '::1' : '127.0.0.1';
}

/** A path as an nginx string: quoted, and refused when it could end the directive or be read as a variable. */
export function nginxPath(p: string): string {
  if (/[\u0000-\u001f\u007f$"\\{};]/.test(p)) {
    throw new FarmError(`The path ${JSON.stringify(p)} cannot be written into nginx.conf: it holds a quote, $, ;, brace or control character.`, 'Move the farm to a folder whose path has none of these.', 'EBADPATH');
  }
  return `"${p}"`;
}

function listen(farm: Farm, runtime: NginxRuntimeKind, port: number, ssl: boolean): string {
  const host = runtime === 'local' ? loopbackHost(farm.server.address) : undefined;
  const where = host ? `${host === '::1' ? '[::1]' : host}:${port}` : `${port}`;
  return `listen ${where}${ssl ? ' ssl' : ''};`;
}

function mainConf(farm: Farm): string {
  return `# nginx configuration of the iPXE farm "${farm.name}", generated once by iPXE Farm; from now on it is yours.
# On save the farm runs \`nginx -t\` and reloads only when the test passes: a broken edit never replaces the running
# config, and its errors appear on the right file and line.
#
# There is no \`user\`, \`pid\` or \`daemon\` line on purpose: each runtime passes them with -g (the podman image runs
# its workers as nginx, a local nginx started as root as www-data) and its own private prefix with -p, so relative
# paths below (logs/, temp/) land in .ipxe-farm/nginx-<runtime>/.

# One worker per core, each able to hold a whole rack booting at once: every boot is a client connection plus, while
# it is answered, a connection to the boot service (500 machines at once need ~1,000 connections).
worker_processes auto;
worker_rlimit_nofile 8192;

events {
    worker_connections 4096;
}

http {
    # A few types inline rather than \`include mime.types\`: the container and Debian keep that file in different places.
    types {
        text/plain              txt ipxe cfg sig;
        text/html               html;
        application/x-iso9660-image iso;
    }
    default_type application/octet-stream;

    sendfile on;
    server_tokens off;

    # The TLS fields say which machine asked for what; no query strings or bodies are logged (secrets never are).
    # Secret files' URLs carry a one-time token in their path: every line (also of a refused handshake, answered by
    # @tls_refused) names their route, never the token.
    map $uri $ipxefarm_logged_uri {
        ~^/secret/ /secret/...;
        default    $uri;
    }
    log_format farm '$remote_addr [$time_local] "$request_method $ipxefarm_logged_uri" $status $body_bytes_sent '
                    'verify=$ssl_client_verify serial=$ssl_client_serial';
    access_log logs/access.log farm;

    client_body_temp_path temp/body;
    proxy_temp_path       temp/proxy;
    fastcgi_temp_path     temp/fastcgi;
    uwsgi_temp_path       temp/uwsgi;
    scgi_temp_path        temp/scgi;

    include conf.d/*.conf;
}
`;
}

function httpsConf(farm: Farm, layout: FarmLayout, runtime: NginxRuntimeKind): string {
  const pki = pkiPaths(layout);
  // Quoted like every path here, so a farm folder with a space still gives one argument.
  const socket = nginxPath(`unix:${layout.bootSocket}`);
  const locations = BOOT_ROUTES.map((r) => `    location ${r} {\n        proxy_pass http://${BOOT_UPSTREAM};\n    }\n`).join('\n');
  return `# Mutual TLS for iPXE: only machines holding a certificate from this farm's CA get a boot script.

# nginx keeps connections to the boot service open, so a boot costs the service one parsed request, not a new
# connection (which costs it about three times the answer). Up to 256 idle ones per worker: with 500 machines booting at
# once, 32 let a third of the requests open a new connection. The service keeps idle connections longer than nginx
# does, so nginx never sends on a connection the service is closing.
upstream ${BOOT_UPSTREAM} {
    server ${socket};
    keepalive 256;
    keepalive_timeout 30s;
}

# Why nginx refused a client certificate, in fixed words (see @tls_refused below): never the raw variable, which a
# client's certificate could fill with anything.
${tlsRefusalMap()}

server {
    ${listen(farm, runtime, farm.server.httpsPort, true)}
    server_name _;

    # The server certificate followed by the CA: iPXE's TRUST= embeds only the CA's fingerprint, so the CA itself
    # must arrive in the handshake or iPXE finds "no usable certificates" (0216eb3c).
    ssl_certificate     ${nginxPath(pki.serverChain)};
    ssl_certificate_key ${nginxPath(pki.serverKey)};

    # iPXE v2.0.0 speaks TLS 1.1-1.2 (no 1.3); the 2019 build only the four AES-CBC RSA suites at the end of the list.
    ssl_protocols ${IPXE_SSL_PROTOCOLS};
    ssl_ciphers ${IPXE_SSL_CIPHERS};
    ssl_prefer_server_ciphers on;

    # Every client must present a certificate signed by the farm CA, directly (depth 1), and not revoked.
    ssl_client_certificate ${nginxPath(pki.caCert)};
    ssl_verify_client on;
    ssl_verify_depth 1;
    # Revocation is checked against the farm's CRL: after \`ipxe-farm revoke\` nginx reloads and refuses that client.
    ssl_crl ${nginxPath(pki.crlPem)};

    # Sessions are not resumed, so every connection shows its certificate and a revoked one cannot ride an old session.
    ssl_session_cache off;
    ssl_session_tickets off;

    # nginx sets these from the verified handshake; proxy_set_header replaces anything a client sent under these names.
    proxy_set_header Host $host;
    proxy_set_header X-Real-IP $remote_addr;
    proxy_set_header X-SSL-Client-Verify $ssl_client_verify;
    proxy_set_header X-SSL-Client-Serial $ssl_client_serial;
    proxy_set_header X-SSL-Client-Fingerprint $ssl_client_fingerprint;
    proxy_set_header X-SSL-Client-S-DN $ssl_client_s_dn;
    proxy_redirect off;
    proxy_http_version 1.1;
    proxy_set_header Connection "";

    # A certificate that fails verification (495) or is missing (496) is answered here, before any location and before
    # the boot service. iPXE does not run the body of a 4xx answer, so the farm's image asks /why.ipxe after a failed
    # boot, and gets the same words as a 200 script it runs. Everything else stays 400, as nginx itself answers
    # (iPXE shows it as error 1d0c6439). default_type: \`return\` text takes the location's type.
    error_page 495 496 = @tls_refused;
    location @tls_refused {
        default_type text/plain;
        add_header Cache-Control no-store always;
        if ($uri = /why.ipxe) {
            return 200 ${tlsRefusalScript(0)};
        }
        return 400 ${tlsRefusalScript(1)};
    }

    # The boot service listens on a unix socket only nginx's workers may open (see .ipxe-farm/run/).
${locations}
    # Secret files: one-time URLs bound to the certificate that fetched the script (the boot service checks both). The
    # token is in the path: the access log shows the route without it (see log_format), and this route's error log
    # keeps only what nginx cannot go on from (crit), since nginx's error lines quote the request line.
    location ${SECRET_LOCATION} {
        error_log logs/error.log crit;
        proxy_pass http://${BOOT_UPSTREAM};
    }

    location / {
        return 404;
    }
}
`;
}

function httpConf(farm: Farm, layout: FarmLayout, runtime: NginxRuntimeKind): string {
  const files = nginxPath(`${layout.files}/`);
  return `# Kernels, initrds and their signatures over plain HTTP: secrecy is not needed here, integrity comes from
# imgverify or a hash pinned in the mutual-TLS boot script.

server {
    ${listen(farm, runtime, farm.server.httpPort, false)}
    server_name _;

    root ${files};
    autoindex off;
    # A symlink under files/ is never followed (a link to ../pki/private/ca.key or ../secrets.json would serve it to
    # anyone): copy or hard-link kernels here instead. Only the part of a path below files/ is checked.
    disable_symlinks on from=$document_root;

    location /files/ {
        alias ${files};
        disable_symlinks on from=$document_root;
    }
}
`;
}

/**
 * The files `generateNginxConfig` writes, without writing them (tests and previews), for the runtime that serves them
 * (its listen lines and paths differ: a local nginx on a loopback farm binds 127.0.0.1 only).
 */
export function renderNginxConfig(farm: Farm, layout: FarmLayout, runtime: NginxRuntimeKind): GeneratedFile[] {
  const p = nginxPaths(layout, runtime);
  return [
    { file: p.mainConf, text: mainConf(farm) },
    { file: path.join(p.confD, 'ipxe-https.conf'), text: httpsConf(farm, layout, runtime) },
    { file: path.join(p.confD, 'files-http.conf'), text: httpConf(farm, layout, runtime) },
  ];
}

export interface GenerateOptions {
  /** Overwrite files that already exist (they are the user's once written). */
  force?: boolean;
}

/** Write the farm's nginx configuration once, for the runtime in use; refuses to replace an existing file unless forced. */
export async function generateNginxConfig(h: FarmHandle, opts: GenerateOptions = {}): Promise<string[]> {
  const { farm, layout } = h;
  const files = renderNginxConfig(farm, layout, h.runtime.kind);
  if (!opts.force) {
    const present: string[] = [];
    for (const f of files) if (await exists(f.file)) present.push(path.relative(layout.root, f.file));
    if (present.length) {
      throw new FarmError(`${present.join(' and ')} already exist${present.length === 1 ? 's' : ''}: the nginx configuration is yours once written.`, 'Edit it, or pass --force to write the generated one over it.', 'EEXIST');
    }
  }
  const p = nginxPaths(layout, h.runtime.kind);
  await ensureDir(p.confDir);
  await ensureDir(p.confD);
  for (const f of files) await writeFileAtomic(f.file, f.text);
  return files.map((f) => f.file);
}
