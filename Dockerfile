# Image for the web process, the workers and the migration job (docker-compose.yml). Same
# commands as without Docker. Three stages, so the final image holds the production dependencies,
# the built app and the sources the server, workers and migrations import — no dev dependencies,
# no build cache, no tests. tests/repo/docker.test.ts checks this file.
# Node 20: the version CI tests (package.json engines; see README "Requirements").

# 1. Build: every dependency (Next.js, Tailwind, esbuild, the Prisma CLI), then the tracker and the app.
FROM node:22-bookworm-slim AS build
WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1
COPY package.json package-lock.json prisma.config.ts ./
COPY scripts/prisma-generate.mjs scripts/prisma-generate.mjs
COPY prisma prisma
# postinstall generates the Prisma client into lib/db/generated.
RUN npm ci
COPY . .
RUN npm run build && rm -rf .next/cache

# 2. Production dependencies only. --ignore-scripts: the one postinstall left would be Prisma
# generation (its CLI is a dev dependency); the generated client comes from the build stage.
FROM node:22-bookworm-slim AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

# 3. Runtime. Files stay owned by root and read-only to the app; it runs as `node` (uid 1000).
FROM node:22-bookworm-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production NEXT_TELEMETRY_DISABLED=1 HOST=0.0.0.0 PORT=3000 EDDY_DATA_DIR=/tmp/eddy
COPY --from=prod-deps /app/node_modules node_modules
COPY package.json tsconfig.json next.config.mjs ./
COPY --from=build /app/.next .next
COPY --from=build /app/public public
COPY --from=build /app/lib lib
COPY server server
COPY workers workers
COPY prisma/migrations prisma/migrations
COPY scripts/migrate.ts scripts/healthcheck.mjs scripts/
# Next.js writes its runtime cache here; nothing else is writable by the app.
RUN mkdir -p .next/cache && chown node:node .next/cache
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["node", "scripts/healthcheck.mjs", "web"]
CMD ["node", "--import", "tsx", "server/index.ts"]
