import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyPodmanFailure, containersConfText, hardLimits } from '../../../src/core/nginx/podmanProbe';
import { localImageTag } from '../../../src/core/nginx/localImage';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max processes             63432                63432                processes
Max open files            1024                 20000                files
`;

test('hard limits come from /proc/self/limits; "unlimited" is no number', () => {
  assert.deepEqual(hardLimits(LIMITS), { nofile: 20000, nproc: 63432 });
  assert.deepEqual(hardLimits('Max open files            1024                 unlimited            files\n'), { nofile: undefined, nproc: undefined });
});

test('the containers.conf asks for runc and for no more open files than the hard limit', () => {
  const text = containersConfText({ nofile: 20000, nproc: 63432 });
  assert.match(text, /^runtime = "runc"$/m);
  assert.match(text, /^default_ulimits = \["nofile=20000:20000", "nproc=32768:32768"\]$/m);
  assert.match(containersConfText({ nofile: 4096, nproc: 1000 }), /"nofile=4096:4096", "nproc=1000:1000"/);
});

test('podman failures are told apart: rlimits, crun, anything else', () => {
  assert.equal(classifyPodmanFailure('Error: runc: runc create failed: unable to start container process: error during container init: error setting rlimits for ready process: error setting rlimit type 7: operation not permitted: OCI permission denied'), 'rlimits');
  assert.equal(classifyPodmanFailure('Error: crun: cgroups in hybrid mode not supported, drop all controllers from cgroupv2: OCI runtime error'), 'crun');
  assert.equal(classifyPodmanFailure('Error: short-name resolution enforced'), 'other');
});

test('the local nginx image is tagged with the upstream part of the package version, in characters a tag allows', () => {
  assert.equal(localImageTag('1.22.1-9+deb12u12'), 'localhost/ipxe-farm-nginx:1.22.1');
  assert.equal(localImageTag('1.18.0-6ubuntu14.4'), 'localhost/ipxe-farm-nginx:1.18.0');
  assert.equal(localImageTag('2:1.26.0+dfsg-1'), 'localhost/ipxe-farm-nginx:1.26.0_dfsg');
});
