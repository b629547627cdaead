// Package cluster has no code of its own: its test builds the real server
// and worker binaries and runs several instances of them against one
// Postgres database and one Redis, the way a scaled-out deployment runs.
package cluster
