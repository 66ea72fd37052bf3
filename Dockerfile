# One image, three entrypoints:
#   /nodejs/bin/node /app/relay/main.js
#   /nodejs/bin/node /app/dns-controller/main.js   (and: ... main.js cleanup, ... main.js status)
#   /nodejs/bin/node /app/hosts-agent/main.js
# Multi-arch (amd64, arm64): build with `docker buildx build --platform linux/amd64,linux/arm64 .`
# `pnpm image` builds it for this machine with podman or docker (scripts/image.sh).

# The base images are build arguments: the defaults are the public images users pull; CI
# passes local ones laid out the same way (Node at /nodejs/bin/node, uid 65532), so that
# CI builds this very file without a registry (.ci/image).
ARG BUILD_IMAGE=node:26.10-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs26-debian13:nonroot

# The bundles are plain JavaScript, the same for every architecture: build once, natively
# ($BUILDPLATFORM), and copy them into each target platform's runtime image.
FROM --platform=$BUILDPLATFORM ${BUILD_IMAGE} AS build
WORKDIR /src
RUN npm install -g pnpm@10.34.8
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml turbo.json tsconfig.base.json tsconfig.json ./
COPY scripts ./scripts
COPY packages ./packages
RUN pnpm install --frozen-lockfile
# The git commit baked into the bundles (--version, hairpin_build_info): the context has no
# .git (.dockerignore), so it comes in as an argument; `pnpm image` and CI pass it.
ARG HAIRPIN_COMMIT=unknown
RUN HAIRPIN_COMMIT="${HAIRPIN_COMMIT}" pnpm build

# distroless Node 26: no shell, no package manager; runs as uid 65532 ("nonroot").
FROM ${RUNTIME_IMAGE}
COPY --from=build /src/packages/relay/dist/main.js /app/relay/main.js
COPY --from=build /src/packages/relay/dist/main.js.map /app/relay/main.js.map
COPY --from=build /src/packages/dns-controller/dist/main.js /app/dns-controller/main.js
COPY --from=build /src/packages/dns-controller/dist/main.js.map /app/dns-controller/main.js.map
COPY --from=build /src/packages/hosts-agent/dist/main.js /app/hosts-agent/main.js
COPY --from=build /src/packages/hosts-agent/dist/main.js.map /app/hosts-agent/main.js.map
# Stack traces in the logs point at the TypeScript sources.
ENV NODE_OPTIONS=--enable-source-maps
USER 65532:65532
ENTRYPOINT ["/nodejs/bin/node"]
CMD ["/app/relay/main.js"]
