package agent

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/ims"
)

// remoteAlert is the error a TLS client gets when the server sends an alert.
type remoteAlert string

func (a remoteAlert) Error() string { return "tls: " + string(a) }

func TestClassify(t *testing.T) {
	wrap := func(err error) error { return &url.Error{Op: "Post", URL: "https://ims/agent/v1/heartbeat", Err: err} }
	alert := func(s string) error { return wrap(&net.OpError{Op: "remote error", Err: remoteAlert(s)}) }
	tests := []struct {
		name     string
		err      error
		withCert bool
		want     outcome
	}{
		{"connection refused", wrap(&net.OpError{Op: "dial", Err: errors.New("connect: connection refused")}), true, retry},
		{"timeout", wrap(errors.New("context deadline exceeded (Client.Timeout exceeded while awaiting headers)")), true, retry},
		{"429", &problemError{status: 429}, true, retry},
		{"500", &problemError{status: 500}, true, retry},
		{"503", &problemError{status: 503}, false, retry},
		{"401 with the certificate", &problemError{status: 401}, true, refused},
		{"401 at enrolment", &problemError{status: 401}, false, final},
		{"403", &problemError{status: 403}, true, final},
		{"409", &problemError{status: 409}, true, final},
		{"422", &problemError{status: 422}, false, final},
		{"pin mismatch", wrap(&untrustedError{"no"}), false, untrusted},
		{"unknown authority", wrap(&tls.CertificateVerificationError{Err: errors.New("x509: certificate signed by unknown authority")}), true, untrusted},
		{"revoked at the handshake", alert("bad certificate"), true, refused},
		{"expired at the handshake", alert("certificate expired"), true, refused},
		{"other alert", alert("handshake failure"), true, retry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := classify(tt.err, tt.withCert); got != tt.want {
				t.Errorf("classify(%v, %v) = %v, want %v", tt.err, tt.withCert, got, tt.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	b := newBackoff(100*time.Millisecond, time.Second)
	steps := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, step := range steps {
		step *= time.Millisecond
		got := b.next(0)
		if got < step/2 || got > step {
			t.Errorf("wait %d = %v, want between %v and %v", i, got, step/2, step)
		}
	}
	if got := b.next(5 * time.Second); got != 5*time.Second {
		t.Errorf("with Retry-After 5s: %v", got)
	}
	b.reset()
	if got := b.next(0); got > 100*time.Millisecond {
		t.Errorf("after reset: %v", got)
	}
}

func TestInventoryOf(t *testing.T) {
	snap := func(uptime, available, diskSize int64) ims.Snapshot {
		disk := ims.Resource{ResourceID: "disk", ResourceTypeID: "t-disk", ResourcePoolID: "pool", ParentID: "host",
			Extensions: ims.Extensions{"name": "sda", "sizeBytes": diskSize}}
		host := ims.Resource{ResourceID: "host", ResourceTypeID: "t-host", ResourcePoolID: "pool", Elements: []ims.Resource{disk},
			Extensions: ims.Extensions{"uptimeSeconds": uptime, "memory": map[string]any{"totalBytes": int64(8 << 30), "availableBytes": available}}}
		return ims.Snapshot{
			ResourceTypes: []ims.ResourceType{{ResourceTypeID: "t-disk"}, {ResourceTypeID: "t-host"}},
			ResourcePools: []ims.ResourcePool{{ResourcePoolID: "pool"}},
			Resources:     []ims.Resource{disk, host},
		}
	}
	base, err := inventoryOf(snap(100, 1<<30, 1000))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(base.Hash, "sha256:") {
		t.Errorf("hash %q", base.Hash)
	}
	for _, r := range base.Resources {
		if len(r.Elements) != 0 || r.ResourcePoolID != "" {
			t.Errorf("%s keeps elements or a pool: %+v", r.ResourceID, r)
		}
		if _, ok := r.Extensions["uptimeSeconds"]; ok {
			t.Errorf("%s reports its uptime", r.ResourceID)
		}
	}
	tests := []struct {
		name       string
		snap       ims.Snapshot
		sameHashAs bool
	}{
		{"only uptime and free memory changed", snap(999, 2<<30, 1000), true},
		{"a disk grew", snap(100, 1<<30, 2000), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := inventoryOf(tt.snap)
			if err != nil {
				t.Fatal(err)
			}
			if (inv.Hash == base.Hash) != tt.sameHashAs {
				t.Errorf("hash %s vs %s: same = %v, want %v", inv.Hash, base.Hash, inv.Hash == base.Hash, tt.sameHashAs)
			}
		})
	}
}

func TestNewValidates(t *testing.T) {
	good := Options{Server: "https://ims.example:8443", NodeName: "n1", StateDir: t.TempDir()}
	tests := []struct {
		name    string
		mutate  func(*Options)
		wantErr string
	}{
		{"fine", func(*Options) {}, ""},
		{"no server", func(o *Options) { o.Server = "" }, "server URL is required"},
		{"plain HTTP", func(o *Options) { o.Server = "http://ims:8443" }, "must be https://"},
		{"no node name", func(o *Options) { o.NodeName = "" }, "node name is required"},
		{"no state dir", func(o *Options) { o.StateDir = "" }, "state directory is required"},
		{"bad CA hash", func(o *Options) { o.CAHash = "sha1:abc" }, "sha256:<64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := good
			tt.mutate(&o)
			_, err := New(o, nil)
			if got := fmt.Sprint(err); (err == nil) != (tt.wantErr == "") || !strings.Contains(got, tt.wantErr) {
				t.Errorf("New = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
