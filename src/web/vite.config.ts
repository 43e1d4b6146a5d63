/**
 * The drawing page. Two builds from the same source:
 * - `vite build` (mode production) -> dist/web/: served by the API server next to
 *   /api/predict; recognition runs on the server, the browser model is loaded on demand.
 * - `vite build --mode static` -> dist/static/: a self-contained static site with the model
 *   files; recognition runs in the browser, no server at all.
 * `vite --config src/web/vite.config.ts` serves the page for development, proxying /api to
 * a server on 127.0.0.1:3000 (`npm start`) and serving the model folder itself.
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { CROSS_ORIGIN_ISOLATION_HEADERS } from './cross-origin-isolation.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const repo = resolve(here, '../..');
/** The digit model and the line model, each served from models/<name>/. */
const MODELS = ['mnist-cnn', 'line-cnn', 'line-paper'];
const MODEL_FILES = ['model.json', 'weights.bin'];

/** Serves the models in development and, for the static site, copies them into the build. */
function modelFiles(copyIntoBuild: boolean): Plugin {
  return {
    name: 'digits-model-files',
    configureServer(server) {
      for (const model of MODELS) {
        server.middlewares.use(`/models/${model}`, (req, res, next) => {
          const name = (req.url ?? '').replace(/^\//, '').split('?')[0];
          const file = join(repo, 'models', model, name);
          if (!MODEL_FILES.includes(name) || !existsSync(file)) return next();
          res.setHeader(
            'Content-Type',
            name.endsWith('.json') ? 'application/json' : 'application/octet-stream',
          );
          createReadStream(file).pipe(res);
        });
      }
    },
    generateBundle() {
      if (!copyIntoBuild) return;
      for (const model of MODELS) {
        for (const name of MODEL_FILES) {
          this.emitFile({
            type: 'asset',
            fileName: `models/${model}/${name}`,
            source: readFileSync(join(repo, 'models', model, name)),
          });
        }
      }
    },
  };
}

/**
 * The static site's `_headers` file: Netlify and Cloudflare Pages send these headers with
 * every file, so the page is cross-origin isolated there (README, "The static site").
 */
function hostHeaders(): Plugin {
  const lines = Object.entries(CROSS_ORIGIN_ISOLATION_HEADERS).map(([k, v]) => `  ${k}: ${v}`);
  return {
    name: 'digits-host-headers',
    generateBundle() {
      this.emitFile({
        type: 'asset',
        fileName: '_headers',
        source: ['/*', ...lines, ''].join('\n'),
      });
    },
  };
}

/**
 * The wasm backend's threaded build starts its threads from the text of its own factory
 * function (`factory.toString()` put in a Blob), so that function must not use anything from
 * around it. It reads one variable of its enclosing closure, `_scriptDir`, guarded by
 * `typeof`; the minifier, seeing a declared variable, drops the guard, and every thread then
 * fails with "e is not defined". Without the declaration `_scriptDir` is a global the
 * minifier keeps guarded (it is undefined in a worker in any case: there is no document).
 */
function standaloneThreadedWasm(): Plugin {
  const declaration =
    /var _scriptDir = typeof document !== 'undefined' && document\.currentScript \? document\.currentScript\.src : undefined;\s*if \(typeof __filename !== 'undefined'\) _scriptDir = _scriptDir \|\| __filename;/;
  return {
    name: 'digits-standalone-threaded-wasm',
    transform(code, id) {
      if (!id.includes('tfjs-backend-wasm-threaded-simd.js')) return null;
      if (!declaration.test(code)) {
        this.error('the threaded wasm factory changed: check standaloneThreadedWasm');
      }
      return { code: code.replace(declaration, ''), map: null };
    },
  };
}

export default defineConfig(({ mode }) => {
  const isStatic = mode === 'static';
  return {
    root: here,
    base: './',
    publicDir: false,
    define: {
      __STATIC_SITE__: JSON.stringify(isStatic),
    },
    resolve: {
      // The recognizer imports '@tensorflow/tfjs'; the page only needs its core and layers
      // (the backends are imported by tf-backends.ts, in the worker, WebGL's code only where
      // WebGL is tried), not the graph converter or tf.data, so this keeps the download small.
      alias: [{ find: /^@tensorflow\/tfjs$/, replacement: join(here, 'tf-browser.ts') }],
    },
    plugins: [modelFiles(isStatic), ...(isStatic ? [hostHeaders()] : [])],
    // The recognition worker (recognition-worker.ts) is a module worker: its chunks (tfjs,
    // the recognizer) are split and loaded as the page's are.
    worker: { format: 'es' as const, plugins: () => [standaloneThreadedWasm()] },
    build: {
      outDir: join(repo, 'dist', isStatic ? 'static' : 'web'),
      emptyOutDir: true,
      target: 'es2022',
      // The wasm binaries are fetched by URL, never inlined.
      assetsInlineLimit: 0,
      chunkSizeWarningLimit: 1500,
    },
    server: {
      proxy: { '/api': 'http://127.0.0.1:3000', '/healthz': 'http://127.0.0.1:3000' },
      headers: CROSS_ORIGIN_ISOLATION_HEADERS,
    },
    preview: { headers: CROSS_ORIGIN_ISOLATION_HEADERS },
  };
});
