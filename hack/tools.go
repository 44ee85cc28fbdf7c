//go:build tools

// Package tools records helm's main package as a dependency, so `go mod tidy` keeps it and
// build-devcluster.sh can build helm in the same `go build` as the Kubernetes binaries, sharing
// the compiled client-go/apimachinery packages.
package tools

import _ "helm.sh/helm/v3/cmd/helm"
