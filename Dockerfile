# syntax=docker/dockerfile:1
# FalkorDB MCP Gateway image. The build stage compiles src/ to dist/; the
# runtime stage holds dist/ and the production dependencies only, and runs as
# an unprivileged user. Configured by environment variables alone (README,
# "Configuration"); secrets through their *_FILE forms, e.g.
# AUTH_SIGNING_KEY_FILE=/run/secrets/gateway_signing_key. There is no embedded
# FalkorDB in the image: set FALKORDB_URL (or FALKORDB_URL_FILE).
#
#   docker build -t falkordb-mcp-gateway .
#   docker run --rm falkordb-mcp-gateway --help          # any CLI command
#   docker run -e FALKORDB_URL=... -e AUTH_SIGNING_KEY_FILE=... falkordb-mcp-gateway   # serve

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=optional leaves out the embedded FalkorDB (@falkordblite/*), which has
# no place in a container. --ignore-scripts: no runtime dependency needs an
# install script (esbuild's belongs to tsx, which only `npm start` uses).
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force
COPY --from=build /app/dist ./dist

ENV HOST=0.0.0.0 PORT=3003
# The base image's `node` user, by number so that Kubernetes' runAsNonRoot can
# check it. The app's files stay root-owned: the process cannot change them.
USER 1000:1000
EXPOSE 3003
# Liveness from inside the container, with no curl in the image. Follows PORT,
# and HTTPS when the gateway serves TLS itself (TLS_CERT_FILE).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "const tls = Boolean(process.env.TLS_CERT_FILE); require(tls ? 'node:https' : 'node:http').get({ host: '127.0.0.1', port: process.env.PORT || 3003, path: '/healthz', rejectUnauthorized: false, timeout: 4000 }, (res) => process.exit(res.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1)).on('timeout', () => process.exit(1))"]
# `docker run IMAGE` serves; `docker run IMAGE tenant add acme` runs any other command.
ENTRYPOINT ["node", "dist/cli/index.js"]
CMD ["serve"]
