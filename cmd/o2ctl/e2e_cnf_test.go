package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/cnf/cnftest"
	o2 "github.com/nephoran/o2ims/pkg/client"
)

// TestCNFPackagesInstancesAndProviders runs the CNF commands that need no
// cluster against the real server: a package uploaded with the SDK is
// listed, an instance created and deleted, and the providers listed.
func TestCNFPackagesInstancesAndProviders(t *testing.T) {
	// The server outlives one run of the test (-count): names of our own.
	vnfd := "vnfd-o2ctl-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	c, err := o2.NewClient(&o2.Config{Endpoint: serverURL})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pkg, err := c.CNFPackages().Upload(ctx, o2.PackageMetadata{
		Name: "app", Version: "0.3.1",
		VnfdInfo:       o2.VnfdInfo{VnfdID: vnfd},
		Flavours:       []o2.Flavour{{FlavourID: "small", Replicas: new(1)}},
		ScalingAspects: []o2.ScalingAspect{{AspectID: "app", Workload: "app", StepDelta: 1, MaxScaleLevel: 3}},
	}, bytes.NewReader(cnftest.HelmChart(t)))
	if err != nil {
		t.Fatalf("upload: %v", err)
	}

	// get cnfpackages -o json lists it, with the spec's attribute names.
	out, errOut := o2ctl(t, 0, "get", "cnfpackages", "-o", "json", "--filter", "(eq,vnfdInfo/vnfdId,"+vnfd+")")
	var pkgs []map[string]any
	if err := json.Unmarshal([]byte(out), &pkgs); err != nil || errOut != "" {
		t.Fatalf("get cnfpackages -o json: %v %q\n%s", err, errOut, out)
	}
	if len(pkgs) != 1 || pkgs[0]["packageId"] != pkg.PackageID || pkgs[0]["contentType"] != "helm" ||
		len(pkgs[0]["checksum"].(string)) != 64 || pkgs[0]["vnfdInfo"].(map[string]any)["vnfdId"] != vnfd {
		t.Fatalf("packages:\n%s", out)
	}
	out, _ = o2ctl(t, 0, "get", "pkg")
	if !strings.HasPrefix(out, "ID ") || !strings.Contains(out, pkg.PackageID) || !strings.Contains(out, vnfd) {
		t.Errorf("get pkg:\n%s", out)
	}

	// cnf create prints the ID of an instance that is not instantiated.
	out, _ = o2ctl(t, 0, "cnf", "create", "--vnfd", vnfd, "--name", "o2ctl-app")
	if !uuidLine.MatchString(out) {
		t.Fatalf("cnf create printed %q", out)
	}
	id := strings.TrimSpace(out)
	out, _ = o2ctl(t, 0, "get", "cnfinstances", id, "-o", "json")
	var inst map[string]any
	if err := json.Unmarshal([]byte(out), &inst); err != nil || inst["vnfInstanceName"] != "o2ctl-app" ||
		inst["instantiationState"] != "NOT_INSTANTIATED" || inst["packageId"] != pkg.PackageID {
		t.Fatalf("get cnfinstances %s: %v\n%s", id, err, out)
	}
	out, _ = o2ctl(t, 0, "describe", "cnf", id)
	if !strings.Contains(out, "NOT_INSTANTIATED") || !strings.Contains(out, vnfd) {
		t.Errorf("describe:\n%s", out)
	}

	// The IMS refuses what it cannot do: 422 is exit status 6, 409 is 5.
	_, errOut = o2ctl(t, exitUnprocessable, "cnf", "create", "--vnfd", vnfd+"-nope")
	if !strings.Contains(errOut, "422") {
		t.Errorf("unknown VNFD: %q", errOut)
	}
	dm := firstID(t, "dm") // the local host: not a Kubernetes cluster
	o2ctl(t, exitUnprocessable, "cnf", "instantiate", id, "--flavour", "small", "--dm", dm)
	o2ctl(t, exitConflict, "cnf", "package", "delete", pkg.PackageID)
	o2ctl(t, exitNotFound, "cnf", "terminate", "00000000-0000-4000-8000-000000000000")

	out, _ = o2ctl(t, 0, "cnf", "delete", id)
	if out != "cnfinstance/"+id+" deleted\n" {
		t.Errorf("cnf delete printed %q", out)
	}
	o2ctl(t, exitNotFound, "get", "cnfinstance", id)
	o2ctl(t, 0, "cnf", "package", "delete", pkg.PackageID)

	// get providers: the built-in local provider, healthy.
	out, _ = o2ctl(t, 0, "get", "providers")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "ID ") || !strings.Contains(lines[0], "HEALTHY") ||
		!strings.Contains(out, "builtin") {
		t.Fatalf("get providers:\n%s", out)
	}
	out, _ = o2ctl(t, 0, "get", "providers", "-o", "json")
	var provs []o2.Provider
	if err := json.Unmarshal([]byte(out), &provs); err != nil || len(provs) == 0 {
		t.Fatalf("get providers -o json: %v\n%s", err, out)
	}
	if p := provs[0]; p.Origin != o2.ProviderBuiltin || p.Status == nil || !p.Status.Healthy {
		t.Errorf("provider %+v", p)
	}
	// Built-in providers cannot be removed.
	o2ctl(t, exitConflict, "provider", "delete", provs[0].ProviderID)

	// A GitOps repository registers though it cannot be reached (it is
	// unhealthy), shows as type gitops, and is removed again.
	fleet, _ := o2ctl(t, 0, "provider", "add", "o2ctl-fleet", "--type", "gitops", "--repository", "http://127.0.0.1:1/fleet.git")
	fleet = strings.TrimSpace(fleet)
	out, _ = o2ctl(t, 0, "get", "providers", "--filter", "(eq,type,gitops);(eq,origin,api)", "-o", "json")
	if err := json.Unmarshal([]byte(out), &provs); err != nil || len(provs) != 1 || provs[0].ProviderID != fleet || provs[0].Name != "o2ctl-fleet" ||
		provs[0].Endpoint != "http://127.0.0.1:1/fleet.git" {
		t.Fatalf("the gitops provider: %v\n%s", err, out)
	}
	o2ctl(t, 0, "provider", "delete", fleet)
}
