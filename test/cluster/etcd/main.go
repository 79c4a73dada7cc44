// Command etcd is etcd 3.6's server, built from go.etcd.io/etcd/server/v3 for the test cluster.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
