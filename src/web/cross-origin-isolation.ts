/**
 * The response headers that make the page cross-origin isolated (`crossOriginIsolated` is
 * true), which browsers require before they hand a page SharedArrayBuffer: only then can the
 * in-browser model run the wasm backend's threaded SIMD build. They go with the page and with
 * every file it loads (scripts, the recognition worker, wasm, models): a worker's own script
 * response decides whether the worker is isolated. The page loads nothing from other origins,
 * so `require-corp` blocks nothing. Sent by the server (src/server/static.ts), by Vite's dev
 * and preview servers (vite.config.ts), and needed from a static host (README, "The static
 * site").
 */
export const CROSS_ORIGIN_ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};
