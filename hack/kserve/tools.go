//go:build tools

// Package tools records KServe's controller manager as a dependency, so `go mod tidy` keeps every
// module it needs and the Makefile can `go build` it from this module.
package tools

import _ "github.com/kserve/kserve/cmd/manager"
