import { UsageError } from '../errors';

/**
 * iPXE prints failures as "Connection reset (https://ipxe.org/0f0c6039)". The 32-bit code packs (high to low):
 * bit 31 reserved, bits 30–24 a POSIX-like errno, bits 23–13 the source file, bits 12–8 a per-file disambiguator,
 * bits 7–0 the firmware's own code (PXE or EFI). The last byte differs between BIOS and EFI builds for the same
 * failure, so every lookup below ignores it.
 */

export interface IpxeErrorInfo {
  /** Eight lowercase hex digits, as iPXE prints them. */
  code: string;
  /** iPXE's errno name, e.g. EACCES. */
  errno: string;
  /** What iPXE itself says, e.g. "No usable certificates". */
  message: string;
  /** iPXE source file that raised it, e.g. "x509", or "file 0x…" when this table does not know it. */
  file: string;
  /** What that file does, in a few words. */
  area?: string;
  /** Per-file disambiguator (bits 12–8). */
  uniq: number;
  /** Firmware-specific byte (bits 7–0): PXE status on BIOS, compressed EFI_STATUS on EFI. */
  platform: number;
  /** Why this usually happens in a farm. */
  cause?: string;
  /** What to do about it. */
  fix?: string;
  /** true when the exact failure (errno, file and disambiguator) is in the farm's table. */
  known: boolean;
  url: string;
}

/** iPXE's errno numbering (its own, not Linux's): value → [name, iPXE's text]. */
const ERRNOS: Record<number, [string, string]> = {
  0x00: ['ENOERR', 'Operation completed successfully'], 0x01: ['E2BIG', 'Argument list too long'],
  0x02: ['EACCES', 'Permission denied'], 0x03: ['EADDRINUSE', 'Address already in use'],
  0x04: ['EADDRNOTAVAIL', 'Address not available'], 0x05: ['EAFNOSUPPORT', 'Address family not supported'],
  0x06: ['EAGAIN', 'Resource temporarily unavailable'], 0x07: ['EALREADY', 'Connection already in progress'],
  0x08: ['EBADF', 'Bad file descriptor'], 0x09: ['EBADMSG', 'Bad message'], 0x0a: ['EBUSY', 'Device or resource busy'],
  0x0b: ['ECANCELED', 'Operation canceled'], 0x0c: ['ECHILD', 'No child processes'],
  0x0d: ['ECONNABORTED', 'Connection aborted'], 0x0e: ['ECONNREFUSED', 'Connection refused'],
  0x0f: ['ECONNRESET', 'Connection reset'], 0x10: ['EDEADLK', 'Resource deadlock avoided'],
  0x11: ['EDESTADDRREQ', 'Destination address required'], 0x12: ['EDOM', 'Argument out of domain of function'],
  0x13: ['EDQUOT', 'Disk quota exceeded'], 0x14: ['EEXIST', 'File exists'], 0x15: ['EFAULT', 'Bad address'],
  0x16: ['EFBIG', 'File too large'], 0x17: ['EHOSTUNREACH', 'Host is unreachable'], 0x18: ['EIDRM', 'Identifier removed'],
  0x19: ['EILSEQ', 'Illegal byte sequence'], 0x1a: ['EINPROGRESS', 'Operation in progress'],
  0x1b: ['EINTR', 'Interrupted function call'], 0x1c: ['EINVAL', 'Invalid argument'], 0x1d: ['EIO', 'Input/output error'],
  0x1e: ['EISCONN', 'Socket is connected'], 0x1f: ['EISDIR', 'Is a directory'],
  0x20: ['ELOOP', 'Too many levels of symbolic links'], 0x21: ['EMFILE', 'Too many open files'],
  0x22: ['EMLINK', 'Too many links'], 0x23: ['EMSGSIZE', 'Message too long'], 0x24: ['EMULTIHOP', 'Multihop attempted'],
  0x25: ['ENAMETOOLONG', 'Filename too long'], 0x26: ['ENETDOWN', 'Network is down'],
  0x27: ['ENETRESET', 'Connection aborted by network'], 0x28: ['ENETUNREACH', 'Network unreachable'],
  0x29: ['ENFILE', 'Too many open files in system'], 0x2a: ['ENOBUFS', 'No buffer space available'],
  0x2b: ['ENODATA', 'No data available'], 0x2c: ['ENODEV', 'No such device'],
  0x2d: ['ENOENT', 'No such file or directory'], 0x2e: ['ENOEXEC', 'Exec format error'], 0x2f: ['ENOLCK', 'No locks available'],
  0x30: ['ENOLINK', 'Link has been severed'], 0x31: ['ENOMEM', 'Not enough space'],
  0x32: ['ENOMSG', 'No message of the desired type'], 0x33: ['ENOPROTOOPT', 'Protocol not available'],
  0x34: ['ENOSPC', 'No space left on device'], 0x35: ['ENOSR', 'No STREAM resources'], 0x36: ['ENOSTR', 'Not a STREAM'],
  0x37: ['ENOSYS', 'Function not implemented'], 0x38: ['ENOTCONN', 'The socket is not connected'],
  0x39: ['ENOTDIR', 'Not a directory'], 0x3a: ['ENOTEMPTY', 'Directory not empty'], 0x3b: ['ENOTSOCK', 'Not a socket'],
  0x3c: ['ENOTSUP', 'Operation not supported'], 0x3d: ['ENOTTY', 'Inappropriate I/O control operation'],
  0x3e: ['ENXIO', 'No such device or address'], 0x3f: ['EOPNOTSUPP', 'Operation not supported on socket'],
  0x40: ['EOVERFLOW', 'Value too large to be stored in data type'], 0x41: ['EPERM', 'Operation not permitted'],
  0x42: ['EPIPE', 'Broken pipe'], 0x43: ['EPROTO', 'Protocol error'], 0x44: ['EPROTONOSUPPORT', 'Protocol not supported'],
  0x45: ['EPROTOTYPE', 'Protocol wrong type for socket'], 0x46: ['ERANGE', 'Result too large'],
  0x47: ['EROFS', 'Read-only file system'], 0x48: ['ESPIPE', 'Invalid seek'], 0x49: ['ESRCH', 'No such process'],
  0x4a: ['ESTALE', 'Stale file handle'], 0x4b: ['ETIME', 'Timer expired'], 0x4c: ['ETIMEDOUT', 'Connection timed out'],
  0x4d: ['ETXTBSY', 'Text file busy'], 0x4e: ['EWOULDBLOCK', 'Operation would block'], 0x4f: ['EXDEV', 'Improper link'],
  0x7f: ['EPLATFORM', 'Platform-generated error'],
};
const ERRNO_VALUE: Record<string, number> = Object.fromEntries(Object.entries(ERRNOS).map(([v, [n]]) => [n, Number(v)]));

// File identifiers: a category in bits 15–13 (core 1, driver 2, net 3, image 4, other 7), an index in bits 22–16,
// and bit 23 for x86-only files. Only the files a network boot goes through are named here.
const CORE = 0x2000, DRIVER = 0x4000, NET = 0x6000, IMAGE = 0x8000, OTHER = 0xe000, ARCH = 0x800000;
const fid = (category: number, index: number, arch = false) => (arch ? ARCH : 0) | category | (index << 16);

const FILES: Array<[number, string, string]> = [
  [fid(CORE, 0x01), 'downloader', 'downloading an image'],
  [fid(CORE, 0x02), 'exec', 'running script commands'],
  [fid(CORE, 0x04), 'iobuf', 'I/O buffers'],
  [fid(CORE, 0x05), 'job', 'background jobs'],
  [fid(CORE, 0x07), 'monojob', 'waiting for a download or DHCP to finish'],
  [fid(CORE, 0x08), 'nvo', 'stored settings'],
  [fid(CORE, 0x09), 'open', 'opening a URI (is the scheme built in?)'],
  [fid(CORE, 0x0c), 'settings', 'settings and ${…} expansion'],
  [fid(CORE, 0x0e), 'xfer', 'data transfer'],
  [fid(CORE, 0x16), 'parseopt', 'command-line options of a script command'],
  [fid(CORE, 0x23), 'sanboot', 'SAN boot'],
  [fid(CORE, 0x27), 'cachedhcp', 'the firmware\'s cached DHCP packet'],
  [fid(DRIVER, 0x04), 'pci', 'PCI devices'],
  [fid(DRIVER, 0x07), 'usb', 'USB'],
  [fid(DRIVER, 0x2a), 'rtl8139', 'RTL8139 network card'],
  [fid(DRIVER, 0x63), 'realtek', 'Realtek network card'],
  [fid(DRIVER, 0x65), 'intel', 'Intel network card'],
  [fid(DRIVER, 0x68), 'snp', 'EFI network card (SNP)'],
  [fid(DRIVER, 0x6a), 'nii', 'EFI network card (NII)'],
  [fid(DRIVER, 0x7f), 'virtio_pci', 'virtio network card'],
  [fid(NET, 0x01), 'arp', 'ARP address resolution'],
  [fid(NET, 0x05), 'ipv4', 'IPv4'],
  [fid(NET, 0x06), 'ipv6', 'IPv6'],
  [fid(NET, 0x07), 'ndp', 'IPv6 neighbour discovery'],
  [fid(NET, 0x08), 'netdevice', 'network interface (link up?)'],
  [fid(NET, 0x0a), 'tcp', 'TCP connections'],
  [fid(NET, 0x0c), 'httpcore', 'HTTP requests and responses'],
  [fid(NET, 0x0e), 'tcpip', 'TCP/IP'],
  [fid(NET, 0x0f), 'udp', 'UDP'],
  [fid(NET, 0x10), 'dhcp', 'DHCP'],
  [fid(NET, 0x11), 'dns', 'DNS name resolution'],
  [fid(NET, 0x12), 'tftp', 'TFTP'],
  [fid(NET, 0x37), 'neighbour', 'neighbour (ARP/NDP) cache'],
  [fid(NET, 0x3b), 'dhcpv6', 'DHCPv6'],
  [fid(NET, 0x41), 'httpconn', 'HTTP connection pool'],
  [fid(NET, 0x49), 'ntp', 'NTP time'],
  [fid(NET, 0x00, true), 'undi', 'PXE UNDI network driver'],
  [fid(NET, 0x02, true), 'undinet', 'PXE UNDI network driver'],
  [fid(NET, 0x03, true), 'undionly', 'PXE UNDI network driver'],
  [fid(IMAGE, 0x00), 'image', 'image management (trust policy)'],
  [fid(IMAGE, 0x02), 'script', 'iPXE scripts'],
  [fid(IMAGE, 0x04), 'efi_image', 'EFI executables'],
  [fid(IMAGE, 0x05), 'embedded', 'the embedded script'],
  [fid(IMAGE, 0x08), 'der', 'DER certificate images'],
  [fid(IMAGE, 0x09), 'pem', 'PEM certificate images'],
  [fid(IMAGE, 0x0f), 'initrd', 'initrd handling'],
  [fid(IMAGE, 0x01, true), 'bzimage', 'Linux kernel images'],
  [fid(IMAGE, 0x03, true), 'multiboot', 'multiboot images'],
  [fid(IMAGE, 0x05, true), 'pxe_image', 'PXE images'],
  [fid(OTHER, 0x00), 'asn1', 'ASN.1 (certificate and signature encoding)'],
  [fid(OTHER, 0x03), 'autoboot', 'automatic boot'],
  [fid(OTHER, 0x05), 'imgmgmt', 'image commands (chain, imgfetch)'],
  [fid(OTHER, 0x08), 'aes', 'AES'],
  [fid(OTHER, 0x0d), 'tls', 'the TLS handshake'],
  [fid(OTHER, 0x11), 'efi_snp', 'EFI network protocol'],
  [fid(OTHER, 0x16), 'x509', 'X.509 certificate checks'],
  [fid(OTHER, 0x25), 'drbg', 'random numbers'],
  [fid(OTHER, 0x26), 'entropy', 'entropy source'],
  [fid(OTHER, 0x27), 'rsa', 'RSA signatures'],
  [fid(OTHER, 0x2a), 'cms', 'CMS signatures (imgverify)'],
  [fid(OTHER, 0x2b), 'imgtrust', 'imgtrust/imgverify'],
  [fid(OTHER, 0x2e), 'validator', 'certificate chain validation'],
  [fid(OTHER, 0x2f), 'ocsp', 'OCSP revocation checks'],
  [fid(OTHER, 0x36), 'efi_download', 'EFI download protocol'],
  [fid(OTHER, 0x38), 'efi_file', 'EFI file access'],
  [fid(OTHER, 0x4a), 'efi_pxe', 'EFI PXE protocol'],
  [fid(OTHER, 0x4d), 'efi_local', 'EFI local files'],
  [fid(OTHER, 0x4f), 'cert_cmd', 'certificate commands'],
  [fid(OTHER, 0x54), 'efi_autoexec', 'EFI autoexec.ipxe'],
  [fid(OTHER, 0x5a), 'dhe', 'Diffie-Hellman key exchange'],
  [fid(OTHER, 0x5d), 'efi_shim', 'EFI shim'],
  [fid(OTHER, 0x5f), 'x25519', 'X25519 key exchange'],
  [fid(OTHER, 0x66), 'weierstrass', 'elliptic curves'],
  [fid(OTHER, 0x68), 'ecdhe', 'ECDHE key exchange'],
  [fid(OTHER, 0x69), 'ecdsa', 'ECDSA signatures'],
];
const FILE_BY_ID = new Map(FILES.map(([id, name, area]) => [id, { name, area }]));
const FILE_ID = new Map(FILES.map(([id, name]) => [name, id]));

interface Explanation {
  /** iPXE's specific text for this disambiguator. */
  message?: string;
  cause: string;
  fix: string;
}

/** Key of an exact failure: errno, file and disambiguator, without the firmware byte. */
function key(errno: string, file: string, uniq: number): number {
  const e = ERRNO_VALUE[errno];
  const f = FILE_ID.get(file);
  if (e === undefined || f === undefined) throw new Error(`bad table entry ${errno}/${file}`);
  return ((e << 24) | f | (uniq << 8)) >>> 0;
}

const SERVER_CHAIN = 'Point nginx\'s ssl_certificate at pki/issued/server-chain.crt (server certificate followed by the farm CA) and rebuild this client\'s image if the farm CA was re-created since (`ipxe-farm build CLIENT`).';

/** What farm users actually hit, with the farm's own fix. */
const KNOWN = new Map<number, Explanation>([
  [key('EACCES', 'x509', 0x0b), {
    message: 'No usable certificates',
    cause: 'The server\'s certificate chain does not lead to the CA built into the image: nginx sends only server.crt (iPXE\'s TRUST= holds just the CA fingerprint, so the CA must come in the chain), or the image was built for another farm CA.',
    fix: SERVER_CHAIN,
  }],
  [key('EACCES', 'x509', 0x04), {
    message: 'Expired (or not yet valid)',
    cause: 'A certificate in the chain is outside its validity period by the client\'s clock (iPXE allows ±12.5 h): the board\'s clock is wrong, or a certificate has expired.',
    fix: 'Set `ipxe.ntp` in ipxe-farm.json so the image sets its clock before HTTPS (then rebuild), fix the board\'s RTC, or renew the expired certificate.',
  }],
  [key('EACCES', 'x509', 0x0a), {
    message: 'Incorrect certificate name',
    cause: 'The server certificate does not name the address the client connects to (the host in the chain URL must be one of its subjectAltNames).',
    fix: 'Add that address to `server.names` (or set `server.address`) in ipxe-farm.json, re-issue the server certificate and reload nginx.',
  }],
  [key('EACCES', 'x509', 0x06), {
    message: 'Untrusted root certificate',
    cause: 'The chain ends in a root that the image does not trust: the farm CA was re-created after this image was built, or the server uses another CA.',
    fix: 'Rebuild the image (`ipxe-farm build CLIENT`) and make sure nginx serves a certificate issued by the farm CA.',
  }],
  [key('EACCES', 'x509', 0x01), { message: 'Wrong issuer', cause: 'A certificate in the server chain was not signed by the next one (chain out of order or mixed from two CAs).', fix: SERVER_CHAIN }],
  [key('EACCES', 'x509', 0x02), { message: 'Not a CA certificate', cause: 'A certificate used as an issuer lacks basicConstraints CA:TRUE.', fix: 'Re-create the farm CA (its root is marked as a CA) and re-issue the server certificate.' }],
  [key('EACCES', 'x509', 0x03), { message: 'Incorrect key usage', cause: 'A certificate\'s keyUsage/extendedKeyUsage does not allow this use (server cert without serverAuth, or client cert without clientAuth).', fix: 'Re-issue the certificate with the farm CA, which sets the right usages.' }],
  [key('EACCES', 'x509', 0x05), { message: 'Maximum path length exceeded', cause: 'The chain is longer than a CA\'s pathLenConstraint allows.', fix: 'Issue the server certificate directly from the farm root.' }],
  [key('EACCES', 'x509', 0x08), { message: 'Empty certificate chain', cause: 'The server sent no certificate.', fix: SERVER_CHAIN }],
  [key('EACCES', 'x509', 0x09), {
    message: 'OCSP check required',
    cause: 'A certificate carries an OCSP URL and the image wants to check it (a private CA has no OCSP responder).',
    fix: 'Issue certificates without an authorityInfoAccess/OCSP URL (the farm CA does), and build with the farm\'s config/local/crypto.h (`#undef OCSP_CHECK`).',
  }],
  [key('ENOTSUP', 'x509', 0x01), { message: 'Unsupported algorithm', cause: 'A certificate uses a key or signature algorithm this iPXE build cannot check (e.g. RSA-PSS, Ed25519, or ECDSA on the 2019 build).', fix: 'Use RSA 2048 with SHA-256 (the farm CA\'s default).' }],
  [key('ENOTSUP', 'x509', 0x02), { message: 'Unsupported extension', cause: 'A certificate has a critical extension iPXE does not understand (only basicConstraints, keyUsage, extendedKeyUsage and subjectAltName are safe).', fix: 'Re-issue it with the farm CA, or mark the extension non-critical.' }],
  [key('EINVAL', 'x509', 0x04), { message: 'Signature algorithm mismatch', cause: 'A certificate\'s signature algorithm does not match its issuer\'s key type.', fix: 'Re-issue the certificate with the farm CA.' }],
  [key('EPERM', 'tls', 0x01), {
    message: 'Received fatal alert',
    cause: 'The server aborted the TLS handshake: no protocol or cipher in common (the 2019 iPXE build knows only TLS_RSA_WITH_AES_*_CBC_SHA*), or nginx rejected the client certificate during the handshake.',
    fix: 'Use the farm\'s nginx TLS lines (`ssl_protocols TLSv1.2;` with its ssl_ciphers list) and read nginx\'s error log for the reason.',
  }],
  [key('EPERM', 'tls', 0x02), { message: 'Handshake verification failed', cause: 'The TLS Finished messages did not match: a middlebox changed the handshake, or a TLS bug.', fix: 'Connect without proxies in between; check with `openssl s_client` against the same port.' }],
  [key('EPERM', 'tls', 0x03), {
    message: 'No suitable client certificate (client key unusable)',
    cause: 'The image holds no client certificate, or its private key is unusable: the 2019 iPXE build reads only a traditional (PKCS#1) RSA key and OpenSSL 3 writes PKCS#8 unless told otherwise, or CERT and PRIVKEY do not belong together.',
    fix: 'Rebuild the image with `ipxe-farm build CLIENT` (it passes the key in the form each iPXE version reads and checks the pair).',
  }],
  [key('EPERM', 'tls', 0x06), { message: 'ServerKeyExchange verification failed', cause: 'The server\'s key-exchange signature did not verify with its certificate.', fix: 'Check that nginx\'s ssl_certificate and ssl_certificate_key belong together.' }],
  [key('ENOTSUP', 'tls', 0x01), { message: 'Unsupported cipher', cause: 'The server chose a cipher suite this iPXE build does not have.', fix: 'Use the farm\'s nginx ssl_ciphers list, which both supported iPXE versions speak.' }],
  [key('ENOTSUP', 'tls', 0x03), { message: 'Unsupported signature and hash algorithm', cause: 'The server signs the handshake with an algorithm iPXE lacks.', fix: 'Use an RSA 2048 server key with SHA-256 (the farm CA\'s default).' }],
  [key('ENOTSUP', 'tls', 0x04), { message: 'Unsupported protocol version', cause: 'The server offers only TLS 1.3 (iPXE speaks TLS 1.1–1.2).', fix: 'Set `ssl_protocols TLSv1.2;` in nginx.' }],
  [key('ENOTSUP', 'tls', 0x05), { message: 'Unsupported elliptic curve', cause: 'The server chose an ECDHE curve iPXE does not have.', fix: 'Leave nginx\'s ssl_ecdh_curve at its default, or use the farm\'s cipher list.' }],
  [key('EINVAL', 'tls', 0x05), { message: 'Invalid Server Certificate record', cause: 'The server\'s certificate message could not be parsed; the 2019 build cannot reassemble large handshakes.', fix: 'Keep the chain small: one RSA 2048 server certificate plus the farm CA, nothing else.' }],
  [key('EIO', 'httpcore', 0x04), {
    message: 'HTTP 4xx Client Error',
    cause: 'nginx refused the request, usually because it rejected the client certificate (400: issued by another CA, revoked in the farm CRL, or expired) or the URL does not exist on this server.',
    fix: 'Images built by iPXE Farm print the farm\'s reason on the next lines (they ask /why.ipxe). Check this client\'s certificate in the farm\'s PKI (re-issue it and rebuild the image if it is revoked, expired or from an old CA) and read nginx\'s error log for the refused certificate.',
  }],
  [key('EIO', 'httpcore', 0x05), {
    message: 'HTTP 5xx Server Error',
    cause: 'nginx reached no boot service (502: the boot service is not running or its socket is missing) or the boot service failed.',
    fix: 'Start the farm\'s boot service and read its log.',
  }],
  [key('EPERM', 'httpcore', 0x01), {
    message: 'HTTP 403 Forbidden',
    cause: 'The boot service refused this client: its certificate is unknown to the farm\'s PKI index or revoked, its client has no profile, or nginx did not pass a verified certificate.',
    fix: 'The farm\'s reason follows on the console (images built by iPXE Farm ask /why.ipxe) and is in the boot events. Issue (or re-issue) this client\'s certificate with the farm CA and rebuild its image, or map its client to a profile.',
  }],
  [key('ENOENT', 'httpcore', 0x01), { message: 'Not found', cause: 'The server has no file at that URL (HTTP 404): a kernel or initrd path in the profile is wrong, or the client has no boot mapping.', fix: 'Check the profile\'s kernel/initrds paths under files/ and the client\'s profile in ipxe-farm.json.' }],
  [key('EACCES', 'httpcore', 0x01), { message: 'HTTP 401 Unauthorized', cause: 'The server asked for HTTP authentication.', fix: 'Remove auth_basic from the farm\'s nginx location.' }],
  [key('EIO', 'httpcore', 0x01), { message: 'Unrecognised HTTP response code', cause: 'The server answered with an HTTP status iPXE does not handle.', fix: 'Check the boot service and nginx logs for that request.' }],
  [key('EIO', 'httpcore', 0x02), { message: 'Content length mismatch', cause: 'The download ended early (server or connection dropped it).', fix: 'Retry; if it repeats, check nginx\'s error log and disk space on the server.' }],
  [key('ENOTSUP', 'open', 0x00), {
    message: 'Operation not supported',
    cause: 'The image cannot open this kind of URL: HTTPS (or the URI scheme) is not built into this iPXE; BIOS builds leave HTTPS out unless config/local/general.h defines DOWNLOAD_PROTO_HTTPS.',
    fix: 'Build the image with `ipxe-farm build CLIENT` (its general.h enables HTTPS), or use a stock binary that has HTTPS.',
  }],
  [key('EACCES', 'rsa', 0x01), {
    message: 'RSA signature incorrect',
    cause: 'imgverify: the file is not the one that was signed (tampered with, or replaced without re-signing), or the .sig belongs to another file.',
    fix: 'Restore the original file, or re-sign it with the farm\'s code-signing key so its .sig matches.',
  }],
  [key('EACCES', 'cms', 0x01), { message: 'Not a signing certificate', cause: 'The signature was made with a certificate lacking keyUsage digitalSignature.', fix: 'Sign with the farm\'s code-signing certificate.' }],
  [key('EACCES', 'cms', 0x02), { message: 'Not a code-signing certificate', cause: 'The signer\'s certificate lacks extendedKeyUsage codeSigning.', fix: 'Sign with the farm\'s code-signing certificate (not the server or a client certificate).' }],
  [key('EACCES', 'cms', 0x04), { message: 'Incorrect certificate name', cause: 'imgverify --signer NAME does not match the signer certificate\'s name.', fix: 'Use the code-signing certificate\'s common name in --signer, or drop --signer.' }],
  [key('EACCES', 'cms', 0x05), { message: 'No signatures present', cause: 'The .sig file holds no signature (empty, or not a detached CMS signature).', fix: 'Re-sign the file (detached CMS, DER, without signed attributes).' }],
  [key('ENOTSUP', 'cms', 0x01), { message: 'Unrecognised message type', cause: 'The .sig file is not a CMS SignedData (e.g. a PEM or a GPG signature).', fix: 'Re-sign the file with the farm (DER-encoded detached CMS).' }],
  [key('EACCES', 'image', 0x01), { message: 'Untrusted image', cause: 'imgtrust is in force and this image was not verified with imgverify before use.', fix: 'Fetch the image\'s .sig and run imgverify on it before boot (the farm\'s verify option does this).' }],
  [key('ENXIO', 'dns', 0x01), { message: 'DNS name does not exist', cause: 'The server name in the chain URL does not resolve on the boot network.', fix: 'Use the server\'s IP address as `server.address` in ipxe-farm.json, or add the name to the DNS the DHCP server hands out.' }],
  [key('ENXIO', 'dns', 0x02), { message: 'No DNS servers available', cause: 'DHCP gave no DNS server, so a host name cannot be resolved.', fix: 'Use an IP address as `server.address`, or configure DNS in the DHCP server.' }],
]);

/** Failures whose cause does not depend on the disambiguator (keyed with 0: the lookup masks it off). */
const BY_FILE = new Map<number, Omit<Explanation, 'message'>>([
  [key('ETIMEDOUT', 'dhcp', 0), { cause: 'No DHCP server answered on this interface.', fix: 'Check the cable and that a DHCP server serves this network (QEMU user networking has one built in); the farm script retries DHCP before giving up.' }],
  [key('ECONNREFUSED', 'tcp', 0), { cause: 'Nothing listens on the server\'s HTTPS port (nginx down, wrong port, or a missing QEMU guestfwd).', fix: 'Start the farm\'s nginx and check that the port in the image\'s chain URL is `server.httpsPort`.' }],
  [key('ECONNRESET', 'tcp', 0), { cause: 'The server closed the connection during the TLS handshake (often: nginx rejected the cipher list or the client certificate).', fix: 'Read nginx\'s error log; use the farm\'s ssl_protocols/ssl_ciphers lines.' }],
  [key('ETIMEDOUT', 'tcp', 0), { cause: 'The server did not answer: wrong address, a firewall, or no route from the boot network.', fix: 'Check `server.address` in ipxe-farm.json and that the board can reach it.' }],
  [key('ETIMEDOUT', 'ntp', 0), { cause: 'The NTP server did not answer.', fix: 'Check `ipxe.ntp` in ipxe-farm.json (an address reachable from the boot network).' }],
  [key('ENETUNREACH', 'ipv4', 0), { cause: 'The interface has no IPv4 address or route to the server (DHCP did not run or failed).', fix: 'Make sure `dhcp` succeeds before `chain` (the farm script does this).' }],
]);

const CODE_TEXT = /^(?:https?:\/\/ipxe\.org\/(?:err\/)?)?(?:0x)?([0-9a-f]{1,8})$/i;

/** Parse "0216eb3c", "0x0216eb3c" or "https://ipxe.org/0216eb3c" into a number; undefined when it is none of these. */
export function parseIpxeErrorCode(text: string): number | undefined {
  const m = CODE_TEXT.exec(text.trim());
  if (!m) return undefined;
  return Number.parseInt(m[1]!, 16) >>> 0;
}

export function formatIpxeErrorCode(code: number): string {
  return (code >>> 0).toString(16).padStart(8, '0');
}

/** Everything the code itself says, plus the farm's cause and fix when the failure is a known one. */
export function decodeIpxeError(input: string | number): IpxeErrorInfo {
  const code = typeof input === 'number' ? input >>> 0 : parseIpxeErrorCode(input);
  if (code === undefined || code > 0x7fffffff || code === 0) {
    throw new UsageError(
      `"${String(input)}" is not an iPXE error code.`,
      'Give the 8 hex digits iPXE prints after https://ipxe.org/, e.g. `ipxe-farm decode 0216eb3c`.',
    );
  }
  const errnoValue = (code >>> 24) & 0x7f;
  const fileId = code & 0x00ffe000;
  const uniq = (code >>> 8) & 0x1f;
  const platform = code & 0xff;
  const [errno, errnoText] = ERRNOS[errnoValue] ?? [`errno 0x${errnoValue.toString(16)}`, 'Unknown error'];
  const file = FILE_BY_ID.get(fileId);
  const exact = KNOWN.get((code & 0x7fffff00) >>> 0);
  const general = exact ? undefined : BY_FILE.get((code & 0x7fffe000) >>> 0);
  const hex = formatIpxeErrorCode(code);
  return {
    code: hex,
    errno,
    message: exact?.message ?? errnoText,
    file: file?.name ?? `file 0x${(fileId >>> 13).toString(16).padStart(3, '0')}`,
    area: file?.area,
    uniq,
    platform,
    cause: exact?.cause ?? general?.cause,
    fix: exact?.fix ?? general?.fix,
    known: exact !== undefined,
    url: `https://ipxe.org/${hex}`,
  };
}

/** One paragraph for a person: what iPXE said, where, why it usually happens and what to do. */
export function describeIpxeError(info: IpxeErrorInfo): string {
  const lines = [`iPXE error ${info.code}: ${info.message} (${info.errno} in ${info.file}${info.area ? `: ${info.area}` : ''}).`];
  if (info.cause) lines.push(`Likely cause: ${info.cause}`);
  if (info.fix) lines.push(`Fix: ${info.fix}`);
  if (!info.cause) lines.push(`No farm-specific explanation for this one; iPXE's page: ${info.url}`);
  return lines.join('\n');
}

export interface FoundIpxeError {
  info: IpxeErrorInfo;
  /** Offset of the code in the text. */
  index: number;
  /** 0-based line number of the match. */
  line: number;
  /** The whole line iPXE printed, e.g. "Could not start download: Permission denied (https://ipxe.org/0216eb3c)". */
  text: string;
}

// iPXE prints "(https://ipxe.org/0216eb3c)" after every failure message (older builds: "http://ipxe.org/…");
// people paste "Error 0x0216eb3c" or "error 0216eb3c". A serial log may carry ANSI colour codes around them.
const IN_TEXT = /(?:https?:\/\/ipxe\.org\/(?:err\/)?|\berror:?\s+(?:0x)?)([0-9a-f]{8})\b/gi;
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** Every iPXE error code in a serial log or pasted text, in order; a code repeated on later lines is reported again. */
export function findIpxeErrors(text: string): FoundIpxeError[] {
  const found: FoundIpxeError[] = [];
  const lineStarts: number[] = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1);
  const lineOf = (index: number) => {
    let lo = 0, hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= index) lo = mid; else hi = mid - 1;
    }
    return lo;
  };
  const seenAt = new Set<string>();
  for (const m of text.matchAll(IN_TEXT)) {
    const code = Number.parseInt(m[1]!, 16) >>> 0;
    if (code === 0 || code > 0x7fffffff) continue;
    const index = m.index! + m[0].length - 8;
    const line = lineOf(index);
    const dedupe = `${line}:${code}`;
    if (seenAt.has(dedupe)) continue;
    seenAt.add(dedupe);
    const start = lineStarts[line]!;
    const end = text.indexOf('\n', start);
    const lineText = text.slice(start, end === -1 ? undefined : end).replace(ANSI, '').replace(/\r/g, '').trim();
    found.push({ info: decodeIpxeError(code), index, line, text: lineText });
  }
  return found;
}
