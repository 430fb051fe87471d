# syntax=docker/dockerfile:1
# One image for the three pillars services (`pillars frontend|backend|database`).
# Static pure-Go build, distroless non-root runtime, for linux/amd64 and linux/arm64:
#   docker buildx build --platform linux/amd64,linux/arm64 -t pillars .

# The builder runs on the build machine's own platform and cross-compiles (no emulation):
# BuildKit fills TARGETOS/TARGETARCH from --platform.
FROM --platform=$BUILDPLATFORM golang:1.26.8 AS build
ARG TARGETOS=linux
ARG TARGETARCH
WORKDIR /src

# Modules first, so source edits do not invalidate the download layer.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download

COPY cmd ./cmd
COPY internal ./internal
# The scenario library, built into the binary.
COPY scenarios ./scenarios
# CGO off: the SQLite driver is pure Go, and a static binary needs no libc in the runtime image.
# -buildvcs=false: .git is not in the build context (.dockerignore).
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -buildvcs=false -ldflags="-s -w" -o /out/pillars ./cmd/pillars \
 && mkdir -p /out/data /out/secrets

# distroless/static: CA certificates, tzdata, /tmp and a non-root user, nothing else (no shell).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/pillars /pillars
# The database service keeps its SQLite file here. A named volume mounted on /data starts as a
# copy of this directory, so it is writable by the non-root user from the first run.
COPY --from=build --chown=nonroot:nonroot /out/data /data
# The admin token the services share in compose (PILLARS_ADMIN_TOKEN_FILE): a named volume on
# /secrets starts as a copy of this directory, writable by the non-root user.
COPY --from=build --chown=nonroot:nonroot /out/secrets /secrets
USER nonroot:nonroot
# Documentation only: the frontend, backend and database listen on these when configured to.
EXPOSE 8001 8002 8003
ENTRYPOINT ["/pillars"]
CMD ["all"]
