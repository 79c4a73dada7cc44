# Hestia operator image: docker build -t hestia:dev .
# The image runs JavaScript: the TypeScript sources with their types stripped ahead of time (scripts/build-js.ts),
# since Node.js's own type stripping would cost the process about 28 MiB of resident memory for as long as it runs.

# Stage 1: production dependencies only, from the lockfile.
FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: no production dependency needs one, and none should run at build time unasked.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

# Stage 2: the operator's JavaScript (dist/), from src/ and machines/; the build script needs Node.js alone.
FROM node:24-slim AS build
WORKDIR /app
COPY scripts/build-js.ts ./scripts/
COPY src/ ./src/
COPY machines/ ./machines/
RUN node --no-warnings=ExperimentalWarning scripts/build-js.ts

# Stage 3: the runtime image.
FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY --from=build /app/dist ./dist
COPY crds/ ./crds/
# The image's `node` user, by number so that Kubernetes' runAsNonRoot can verify it is not root.
USER 1000:1000
# 8080: Prometheus metrics; 8081: /healthz and /readyz.
EXPOSE 8080 8081
CMD ["node", "dist/src/main.js"]
