# syntax=docker/dockerfile:1
# One image for every component; the Deployments in deploy/k8s pick the bundle and its arguments:
#   node dist/router.js | node dist/gateway.js <identity|commerce> | node dist/subgraph.js <name>
FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 (the embedded store) builds from source when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# The same bundles `npm start` and the tests run (scripts/buildBundles.ts): a pod starts in a fraction of tsx's time.
RUN node --input-type=module --import tsx -e "await (await import('./scripts/buildBundles.ts')).buildBundles()"
RUN npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Read at run time: the SDLs and composed supergraphs, and the chat page's static files.
COPY --from=build /app/schema ./schema
COPY --from=build /app/router/chatPage ./router/chatPage
# Not root; the filesystem can be read-only (the manifests mount /tmp only).
USER 10001:10001
EXPOSE 4000
CMD ["node", "--enable-source-maps", "dist/router.js"]
