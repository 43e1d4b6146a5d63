/**
 * What the page uses of '@tensorflow/tfjs' (vite.config.ts aliases the package to this
 * file): the core ops and the layers API. The backends are registered by tf-backends.ts.
 */
export * from '@tensorflow/tfjs-core';
export * from '@tensorflow/tfjs-layers';
