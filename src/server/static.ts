/**
 * Static files: the built web page at / and the model files at /models/<folder>/ (the digit
 * model, the line model of drawings, the line model of paper), from which the page can run
 * the models in the browser. The page is built by Vite into dist/web/; until it is, /
 * answers 503 page_not_built (see notFound in app.ts). All of them carry the headers of
 * cross-origin isolation (src/web/cross-origin-isolation.ts).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { CROSS_ORIGIN_ISOLATION_HEADERS } from '../web/cross-origin-isolation.ts';

/** The page and its files are cross-origin isolated, so its in-browser model runs threads. */
function isolate(reply: FastifyReply): void {
  reply.headers(CROSS_ORIGIN_ISOLATION_HEADERS);
}

export async function registerStatic(
  app: FastifyInstance,
  /** `models`: each folder and the name it is served under (/models/<name>/). */
  options: { webRoot: string; models: readonly { dir: string; name: string }[] },
): Promise<void> {
  // The page is read from disk on each request, so a page built after start is served too.
  await app.register(fastifyStatic, {
    root: resolve(options.webRoot),
    prefix: '/',
    index: ['index.html'],
    // A missing dist/web/ is expected before `npm run build`: not worth a warning.
    logLevel: 'warn',
    setHeaders: isolate,
  });
  for (const { dir, name } of options.models) {
    const prefix = `/models/${name}/`;
    await app.register(fastifyStatic, {
      root: resolve(dir),
      prefix,
      decorateReply: false,
      setHeaders: isolate,
    });
  }
}

/** Whether `url` asks for the page itself and the page has not been built. */
export function isUnbuiltPage(url: string, webRoot: string): boolean {
  const path = url.split('?')[0];
  return (path === '/' || path === '/index.html') && !existsSync(join(webRoot, 'index.html'));
}
