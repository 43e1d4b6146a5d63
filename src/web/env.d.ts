/// <reference types="vite/client" />

/** True in the static build (dist/static/): no server, the model runs in the browser. */
declare const __STATIC_SITE__: boolean;
