package testserver

import (
	"os"
	"path/filepath"
	"testing"
)

func TestModuleRootAndResident(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil || filepath.Base(filepath.Join(root, "internal", "testserver")) != "testserver" {
		t.Fatalf("module root %q: %v", root, err)
	}
	kib, err := ResidentKiB(os.Getpid())
	if err != nil || kib <= 0 {
		t.Fatalf("resident size of this test: %d KiB, %v", kib, err)
	}
	if _, err := ResidentKiB(-1); err == nil {
		t.Error("a process that does not exist has a resident size")
	}
}
