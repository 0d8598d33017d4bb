# One image for every role, chosen by the arguments: `--role api`, `--role worker`, none for both in
# one process; `node dist/db/migrate.js` applies the migrations and exits.
# Node 22 LTS, Debian 12 (bookworm), slim. The tests run on Node 20 and on this 22 release.
ARG NODE_IMAGE=node:22.23.5-bookworm-slim

# Compile TypeScript to dist/ with every dependency installed.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY console ./console
# the incremental build's bookkeeping stays behind; the console is built into dist/console
RUN npm run build && npm run build:console && rm dist/.tsbuildinfo

# Production dependencies only: no compiler, test runner or linter reaches the runtime image.
FROM ${NODE_IMAGE} AS production-dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
# tini runs as PID 1: it passes SIGTERM on to node and reaps zombies.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini=0.19.0-1+b3 \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY --from=production-dependencies /app/node_modules ./node_modules
COPY package.json ./
COPY drizzle ./drizzle
COPY bin ./bin
COPY --from=build /app/dist ./dist
# the image's own user (uid 1000), owning nothing it runs
USER node
EXPOSE 3000 9464
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["node", "dist/operations/healthcheck.js"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/main.js"]
