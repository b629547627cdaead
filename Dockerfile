# syntax=docker/dockerfile:1
# One image, three programs: server (the default), worker and etctl.
#   docker build -t employee-tracking .
#   docker run employee-tracking                      # the API on :8000
#   docker run --entrypoint worker employee-tracking  # relay, projectors, sagas; health on :8001
#   docker run --entrypoint etctl employee-tracking seed-demo

# Build: static binaries, no cgo; modules are downloaded in their own layer.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/ ./cmd/server ./cmd/worker ./cmd/etctl

# Run: distroless static (CA certificates, /etc/passwd with nonroot, no
# shell) as the nonroot user. Each binary embeds the timezone database
# (time/tzdata), so schedules in any IANA zone work without zoneinfo files.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ /usr/local/bin/
USER nonroot:nonroot
ENV PATH=/usr/local/bin
# 8000: the API (HTTP_ADDR); 8001: the worker's health and metrics (WORKER_HTTP_ADDR).
EXPOSE 8000 8001
ENTRYPOINT ["/usr/local/bin/server"]
