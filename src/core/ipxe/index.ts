/**
 * iPXE images for farm clients: the source tree, the embedded script, the per-client build and its manifest, and
 * the decoding of iPXE's error codes. The CLI, the editor and the QEMU runner use these; nothing here knows them.
 */
export { decodeIpxeError, describeIpxeError, findIpxeErrors, parseIpxeErrorCode, formatIpxeErrorCode, type IpxeErrorInfo, type FoundIpxeError } from './errors';
export { locateIpxeSource, describeTree, cloneIpxe, cachedTreeDir, ipxeCacheRoot, IPXE_UPSTREAM, DEFAULT_IPXE_REF, type IpxeSource, type IpxeFlavour, type LocateOptions } from './source';
export { embeddedScript, clientEmbeddedScript, checkScriptHost, urlHost, SCRIPT_MARKERS, type EmbeddedScriptOptions, type FailureAction } from './script';
export { localConfigHeaders, generalHeader, cryptoHeader, dhcpHeader, HEADER_MARK, type DhcpTuning } from './config';
export { buildClientImage, imageState, checkDebug, MAKE_TARGETS, NAMED_CONFIG, type BuildOptions, type BuildResult, type BuildProgress, type BuildStage, type ImageState, type ImageStatus } from './build';
export { clientOutDir, imageFiles, readManifest, MANIFEST_FILE, SCRIPT_COPY, type ImageManifest, type ImageRecord } from './manifest';
export { withTreeLock, treeLockFile } from './treeLock';
export { assembleClientImage } from './assemble';
export { imageStateAt } from './build';
export { makeEfiStick } from './fatImage';
export { readBuildInputs } from './inputs';
