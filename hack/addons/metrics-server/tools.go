//go:build tools

// Package tools records metrics-server's main package as this module's dependency, so
// `go mod tidy` keeps what `go build sigs.k8s.io/metrics-server/cmd/metrics-server` needs.
package tools

import _ "sigs.k8s.io/metrics-server/cmd/metrics-server"
