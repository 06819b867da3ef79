package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestProvisionCommands lists and describes the templates, and submits
// and deletes provisioning requests the server refuses, through the o2ctl
// binary. (The end-to-end tests of e2e/ provision on a real cluster.)
func TestProvisionCommands(t *testing.T) {
	out, _ := o2ctl(t, 0, "get", "templates")
	if !strings.HasPrefix(out, "NAME") || !strings.Contains(out, "kubernetes-namespace") || !strings.Contains(out, "true") {
		t.Fatalf("get templates:\n%s", out)
	}
	out, _ = o2ctl(t, 0, "describe", "template", "kubernetes-namespace.1.0.0")
	if !strings.Contains(out, "required:") || !strings.Contains(out, "deploymentManagerId, namespace") {
		t.Fatalf("describe template:\n%s", out)
	}
	if out, _ := o2ctl(t, 0, "get", "provisioningrequests", "-o", "json"); strings.TrimSpace(out) != "[]" {
		t.Fatalf("get provisioningrequests: %q", out)
	}

	dm := firstID(t, "dm")
	file := filepath.Join(t.TempDir(), "pr.yaml")
	write := func(body string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The host's deployment manager is not a Kubernetes cluster.
	write(`provisioningRequestId: 3c9a6f0e-1d2b-4e5f-8a9b-0c1d2e3f4a5b
name: team a
description: ""
templateName: kubernetes-namespace
templateVersion: 1.0.0
templateParameters:
  deploymentManagerId: ` + dm + `
  namespace: team-a
`)
	_, errOut := o2ctl(t, exitError, "provision", "create", "-f", file)
	if !strings.Contains(errOut, "templateParameters.deploymentManagerId") || !strings.Contains(errOut, "400") {
		t.Errorf("a deployment manager that is no cluster: %q", errOut)
	}
	write(strings.Replace(string(mustRead(t, file)), "namespace: team-a", "namespace: Team_A", 1))
	if _, errOut := o2ctl(t, exitError, "provision", "create", "-f", file); !strings.Contains(errOut, "templateParameters.namespace: must match the pattern") {
		t.Errorf("a namespace outside the schema: %q", errOut)
	}
	write("name: no id\n")
	if _, errOut := o2ctl(t, exitError, "provision", "create", "-f", file); !strings.Contains(errOut, "provisioningRequestId is required") {
		t.Errorf("no id: %q", errOut)
	}
	if _, errOut := o2ctl(t, exitNotFound, "provision", "delete", "3c9a6f0e-1d2b-4e5f-8a9b-0c1d2e3f4a5b"); !strings.Contains(errOut, "404") {
		t.Errorf("delete of an unknown request: %q", errOut)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
