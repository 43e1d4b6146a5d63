// piscina's entry for the body worker (body-worker.ts): the sources are TypeScript, and a
// worker thread does not get the parent's loader for its entry file, so tsx is registered
// here first (as src/node/ts-worker.ts does for the inference workers).
import { register } from 'tsx/esm/api';

register();
const { default: prepareBody } = await import('./body-worker.ts');

export default prepareBody;
