// Command o2ctl is the command-line client of the Nephoran O2 IMS. It reads
// the O2ims inventory — resource pools, resources, resource types and
// deployment managers — with kubectl habits: "o2ctl get", "o2ctl describe",
// named contexts in a configuration file, and table, wide, JSON and YAML
// output.
//
// Run "o2ctl --help" for the commands and the exit statuses.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
