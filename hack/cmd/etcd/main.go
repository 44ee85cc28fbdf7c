// Command etcd is the etcd server at the version the pinned Kubernetes release is tested with
// (its go.mod requires go.etcd.io/etcd/server/v3 at that version).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
