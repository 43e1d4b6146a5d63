/**
 * The inference pool as a Fastify plugin (examples.md, "A resource as a plugin"): it starts
 * the workers, decorates the app with the pool, and drains and stops it when the app closes.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { InferencePool, type InferencePoolOptions } from '../inference-pool.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** The inference workers: `await app.inference.whenReady()` waits for the model. */
    inference: InferencePool;
  }
}

async function inferencePlugin(
  app: FastifyInstance,
  options: Omit<InferencePoolOptions, 'log'>,
): Promise<void> {
  const pool = new InferencePool({ ...options, log: app.log.child({ component: 'inference' }) });
  app.decorate('inference', pool);
  app.addHook('onClose', async () => pool.close());
}

export default fp(inferencePlugin, { name: 'inference', fastify: '5.x' });
