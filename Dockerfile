# The digits server as a container image: `docker build -t digits .` then
# `docker run -p 3000:3000 digits`. Not built on the development machines (they have no
# container engine and no registry for base images); kept plain and conventional instead.

ARG NODE_VERSION=20

# Build stage: every dependency, the page built by Vite, then the dev dependencies removed.
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

# Runtime stage: production dependencies, the sources (run by tsx), the model and the page.
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
# Owned by root, read-only to the server: it writes nothing but tsx's cache in /tmp.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/src ./src
COPY --from=build /app/models ./models
COPY --from=build /app/dist/web ./dist/web
# The node image's unprivileged user (uid 1000).
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
# `npm run serve` without npm: node is PID 1 and receives SIGTERM itself, so the drain runs
# (src/server/shutdown.ts). It spawns no processes, so it has no children to reap.
CMD ["node", "--import", "tsx", "src/server/main.ts", "--serve"]
