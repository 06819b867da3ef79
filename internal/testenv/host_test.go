package testenv

import (
	"strings"
	"testing"
)

// A missing program skips the test, or fails it with
// O2IMS_TESTENV_REQUIRED=1; a present one is found.
func TestRequireCommand(t *testing.T) {
	t.Setenv("CI", "")
	t.Setenv(EnvRequired, "")
	call := func() *fakeTB {
		ft := &fakeTB{TB: t}
		func() {
			defer func() { recover() }() // fakeTB panics where a real test would end
			RequireCommand(ft, "o2ims-no-such-program", "this test")
		}()
		return ft
	}
	if ft := call(); !ft.skipped || ft.failed || !strings.Contains(ft.msg, "o2ims-no-such-program is not installed") {
		t.Errorf("skipped=%v failed=%v msg=%q, want a skip naming the program", ft.skipped, ft.failed, ft.msg)
	}
	t.Setenv(EnvRequired, "1")
	if ft := call(); !ft.failed || ft.skipped {
		t.Errorf("with %s=1: skipped=%v failed=%v, want a failure", EnvRequired, ft.skipped, ft.failed)
	}
	if path := RequireCommand(t, "sh", "this test"); !strings.HasSuffix(path, "/sh") {
		t.Errorf("RequireCommand(sh) = %q", path)
	}
}
