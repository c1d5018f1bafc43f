# StateSet Voice: build stage compiles TypeScript to dist/ and the web console to dist/console; the runtime stage runs `node dist/main.js`
# as the unprivileged `node` user. scripts/docker-build-stage.sh runs the build stage's commands as
# plain shell (no container daemon needed), so CI checks them on every change.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY web ./web
RUN npm run build
RUN npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=5050 \
    HOST=0.0.0.0 \
    SHUTDOWN_CALL_DRAIN_SECONDS=1800
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./package.json
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node migrations ./migrations
USER node
EXPOSE 5050
# Liveness only: readiness (/health/ready) turns 503 while draining, which must not restart us.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||5050)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# One SIGTERM starts the drain (src/Health/Lifecycle.ts); give the runtime a stop timeout to match
# (`docker stop -t 1860`, compose `stop_grace_period`, k8s `terminationGracePeriodSeconds`).
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
