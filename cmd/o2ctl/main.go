// Command o2ctl is the command-line client of the Nephoran O2 IMS. It reads
// the O2ims inventory — resource pools, resources, resource types,
// deployment managers, alarm dictionaries — and the alarms and probable
// causes of the monitoring API with kubectl habits: "o2ctl get",
// "o2ctl describe", named contexts in a configuration file, and table,
// wide, JSON and YAML output. It acknowledges and clears alarms
// ("o2ctl alarm"), subscribes callbacks to inventory changes and alarm
// events ("o2ctl subscribe", "o2ctl unsubscribe") and sets the alarm
// retention ("o2ctl alarm-config"). It registers Kubernetes clusters
// ("o2ctl provider"), uploads CNF packages and runs the lifecycle of CNF
// instances ("o2ctl cnf"), whose packages, instances, operations and
// providers "o2ctl get" and "o2ctl describe" show.
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
