/**
 * The corrections store as a Fastify plugin (examples.md, "A resource as a plugin"): it opens
 * the store the app was configured with, decorates the app with it, and closes it when the
 * app closes. Without a store configured, `app.corrections` is null and the corrections
 * routes answer 503.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { openStore, type StoreConfig } from '../store/open.ts';
import type { CorrectionsStore } from '../store/store.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** The corrections store, or null when this app keeps none. */
    corrections: CorrectionsStore | null;
  }
}

export interface CorrectionsPluginOptions {
  /** Where corrections are kept; false keeps none. */
  readonly store: StoreConfig | false;
}

async function correctionsPlugin(
  app: FastifyInstance,
  options: CorrectionsPluginOptions,
): Promise<void> {
  if (options.store === false) {
    app.decorate('corrections', null);
    return;
  }
  const log = app.log.child({ component: 'corrections' });
  const store = await openStore({
    ...options.store,
    onError: (err) => log.warn({ err: err.message }, 'the corrections database is unavailable'),
  });
  log.info({ kind: store.kind }, 'corrections store open');
  app.decorate('corrections', store);
  app.addHook('onClose', async () => store.close());
}

export default fp(correctionsPlugin, { name: 'corrections', fastify: '5.x' });
