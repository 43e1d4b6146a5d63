/**
 * The corrections store as a Fastify plugin (examples.md, "A resource as a plugin"): it opens
 * the store the app was configured with, decorates the app with it, and closes it when the
 * app closes. Without a store configured, `app.corrections` is null and the corrections
 * routes answer 503.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { deferredStore } from '../store/deferred.ts';
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
  const config = options.store;
  const kind = config.databaseUrl ? 'postgres' : 'embedded';
  const open = () => {
    const opening = openStore({
      ...config,
      onError: (err) => log.warn({ err: err.message }, 'the corrections database is unavailable'),
    });
    opening.then(
      () => log.info({ kind }, 'corrections store open'),
      (err: unknown) =>
        log.error(
          { err, kind },
          'the corrections store could not be opened: corrections answer 503',
        ),
    );
    return opening;
  };
  // Opened on first use (see deferred.ts); PostgreSQL is cheap to reach, so it is connected
  // and migrated at start, in the background, to report a bad DATABASE_URL at once.
  const store = deferredStore(kind, open);
  if (kind === 'postgres') void store.ready().catch(() => {});
  app.decorate('corrections', store);
  app.addHook('onClose', async () => store.close());
}

export default fp(correctionsPlugin, { name: 'corrections', fastify: '5.x' });
