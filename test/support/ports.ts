export { freeLoopbackPort as freePort } from '../../src/core/net/freePort';

import { freeLoopbackPort } from '../../src/core/net/freePort';

/** Two different free ports: two asks can return the same one, since nothing holds the first yet. */
export async function twoFreePorts(): Promise<[number, number]> {
  const a = await freeLoopbackPort();
  let b = await freeLoopbackPort();
  while (b === a) b = await freeLoopbackPort();
  return [a, b];
}
