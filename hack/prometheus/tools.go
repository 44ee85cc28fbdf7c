//go:build tools

// Package tools records Prometheus's main package as a dependency, so `go mod tidy` keeps every
// module it needs and the Makefile can `go build` it from this module.
package tools

import _ "github.com/prometheus/prometheus/cmd/prometheus"
