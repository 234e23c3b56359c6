# syntax=docker/dockerfile:1
#
# Targets:
#   runtime (the default, last): the gateway alone, production dependencies only, as a non-root user.
#       docker build -t bff-session-gateway .
#   demo: the demo IdP and demo API (src/dev, run through tsx; they need devDependencies).
#       docker build --target demo -t bff-session-gateway-demo .
# docker-compose.yml builds both.

ARG NODE_IMAGE=node:24-bookworm-slim

# Every dependency, for compiling and for the demo parts.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM deps AS build
COPY tsconfig.json tsconfig.build.json tsconfig.client.json ./
COPY src ./src
COPY client ./client
RUN npm run build

# The demo IdP and API: `command` picks which (see docker-compose.yml).
FROM deps AS demo
COPY src/dev ./src/dev
USER node
CMD ["node", "--import", "tsx", "src/dev/idp-main.ts"]

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY config/gateway.example.yaml ./config/
# The image's official unprivileged user (uid 1000); the app files stay root-owned and read-only to it.
USER node
EXPOSE 3000
# No curl in slim images: ask /healthz with node's own fetch.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/main.js"]
