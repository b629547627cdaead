# syntax=docker/dockerfile:1
# Build: static binaries, no cgo.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/ ./cmd/server ./cmd/worker ./cmd/etctl

# Run: a small image with CA certificates and timezone data, as a non-root user.
# The binaries also embed the timezone database (time/tzdata).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ /usr/local/bin/
USER nonroot:nonroot
EXPOSE 8000
ENTRYPOINT ["/usr/local/bin/server"]
