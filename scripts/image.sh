#!/usr/bin/env bash
# `pnpm image`: builds the Dockerfile for this machine with podman (or docker) and prints
# the image's name and size. Arguments are passed on to `build`, for example
#   pnpm image --build-arg RUNTIME_IMAGE=registry.example.com/distroless/nodejs26-debian13:nonroot
# HAIRPIN_IMAGE names the image (default hairpin:dev); CONTAINER_ENGINE=docker picks docker
# when both are installed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

image=${HAIRPIN_IMAGE:-hairpin:dev}
engine=${CONTAINER_ENGINE:-}
if [ -z "$engine" ]; then
  if command -v podman >/dev/null; then
    engine=podman
  elif command -v docker >/dev/null; then
    engine=docker
  else
    echo "pnpm image: neither podman nor docker is installed" >&2
    exit 1
  fi
fi

# The git commit for --version and hairpin_build_info: the build context has no .git.
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)

start=$(date +%s)
"$engine" build --tag "$image" --build-arg "HAIRPIN_COMMIT=${commit}" "$@" .
seconds=$(($(date +%s) - start))
bytes=$("$engine" image inspect --format '{{.Size}}' "$image")
echo "image ${image}: $((bytes / 1000000)) MB (${bytes} bytes), built by ${engine} in ${seconds} s"
