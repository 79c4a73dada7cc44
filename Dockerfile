# Hestia operator image: docker build -t hestia:dev .
# Node 24 runs the TypeScript sources directly (type stripping), so there is no compile step: the image holds
# the production dependencies and the sources, nothing else.

# Stage 1: production dependencies only, from the lockfile.
FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: no production dependency needs one, and none should run at build time unasked.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

# Stage 2: the runtime image.
FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY src/ ./src/
COPY machines/ ./machines/
COPY crds/ ./crds/
# The image's `node` user, by number so that Kubernetes' runAsNonRoot can verify it is not root.
USER 1000:1000
# 8080: Prometheus metrics; 8081: /healthz and /readyz.
EXPOSE 8080 8081
CMD ["node", "src/main.ts"]
