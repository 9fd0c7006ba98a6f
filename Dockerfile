# Image of the wsn-watch services (ingest, detect, ...) for docker-compose.yml.
# The sources run through tsx, so there is no build step beyond dependencies.

# Stage 1: production dependencies, plus the native TensorFlow binding when it
# can be built (scripts/install-tfjs-node.sh needs python3 and a C++ toolchain,
# which the full bookworm image has). Without it the detector falls back to the
# WebAssembly backend (detector.backend = auto).
FROM node:20-bookworm AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY scripts ./scripts
RUN WSN_ALLOW_NO_NATIVE=1 bash scripts/install-tfjs-node.sh

# Stage 2: the runtime, without compilers.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY . .
RUN mkdir -p /data && chown node:node /data
USER node
# Checkpoints and other local state (stateDir) live in a volume mounted here.
ENV WSN_STATE_DIR=/data
ENTRYPOINT []
CMD ["node", "bin/wsn-watch.mjs", "--help"]
