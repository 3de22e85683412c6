# Every process of the store and every head-office service, one image each, built from the
# repository root with the service's name and its HTTP port: a store process's from
# contract/src/services.ts, a head-office service's as its compose file gives it
# (docker-compose.yaml, docker-compose.chain.yaml and the CI workflow pass both):
#   docker build --build-arg SERVICE=fastlane-finale --build-arg HTTP_PORT=8085 -t spectrum-grocers/fastlane-finale .
#   docker build --build-arg SERVICE=head-office --build-arg HTTP_PORT=8200 -t spectrum-grocers/head-office .
# Stage 1 builds the workspace and deploys the service with production dependencies only;
# stage 2 is a slim Debian with Node, the deployed service and a non-root user.

FROM node:22-bookworm-slim AS build
# better-sqlite3 compiles its native addon from source.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
# node-gyp builds against the image's own Node headers rather than downloading them.
ENV npm_config_nodedir=/usr/local
RUN npm install -g pnpm@10.34.9
WORKDIR /src
# Dependencies first (from the lockfile alone), so source edits reuse this layer.
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
RUN pnpm fetch
COPY . .
# Declared only now, so that every image shares every layer above.
ARG SERVICE
ARG HTTP_PORT
# The build follows production dependencies only (--filter-prod): through the services' test
# dependencies (testkit, chain, store, which depend on each other) pnpm would find a cycle and
# could build the store before the runtime it needs.
RUN pnpm install --offline --frozen-lockfile --filter "@spectrum-grocers/${SERVICE:?build with --build-arg SERVICE=<process>}..." --filter fresh-frontier \
    && pnpm --filter-prod "@spectrum-grocers/${SERVICE}..." build \
    && pnpm --filter "@spectrum-grocers/${SERVICE}" deploy --prod /out
# EXPOSE takes no lookup, so the port comes in as an argument: refuse one the contract does not
# give a process of the store. A head-office service has none in the contract (its replicas run
# wherever HQ puts them) and takes any port.
RUN cd /out && node --input-type=module -e " \
    import { HTTP_PORTS, isHqService } from '@spectrum-grocers/contract'; \
    const { SERVICE, HTTP_PORT } = process.env; \
    const port = Number(HTTP_PORT); \
    const problem = isHqService(SERVICE) \
      ? (String(port) === HTTP_PORT && port > 0 && port < 65536 ? '' : SERVICE + ' needs a port, 1-65535') \
      : (HTTP_PORT === String(HTTP_PORTS[SERVICE]) ? '' : SERVICE + ' listens on ' + HTTP_PORTS[SERVICE]); \
    if (problem) { \
      console.error('HTTP_PORT=' + HTTP_PORT + ', but ' + problem); \
      process.exit(1); \
    }"

FROM node:22-bookworm-slim
ARG HTTP_PORT
ENV NODE_ENV=production DATA_DIR=/data LOG_FORMAT=json HTTP_PORT=${HTTP_PORT}
WORKDIR /app
COPY --from=build --chown=node:node /out ./
# The bills and stock in /data are the service user's alone.
RUN mkdir -p /data && chown node:node /data && chmod 700 /data
USER node
VOLUME ["/data"]
EXPOSE ${HTTP_PORT}
# The runtime's one healthcheck, deployed with every service: 0 on a 200 from /healthz at HTTP_PORT.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["node", "node_modules/@spectrum-grocers/runtime/dist/healthcheck.js"]
# SIGTERM from `docker stop` reaches Node directly (exec form), which shuts down gracefully.
CMD ["node", "--max-semi-space-size=4", "--optimize-for-size", "dist/main.js"]
