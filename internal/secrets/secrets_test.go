package secrets

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	b, err := NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte("apiVersion: v1\nkind: Config\n# token: abc\n")
	sealed, err := b.Seal(plain, []byte("provider-1"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "token") || !strings.HasPrefix(sealed, "v1:") {
		t.Fatalf("sealed text leaks or lacks the version: %q", sealed)
	}
	got, err := b.Open(sealed, []byte("provider-1"))
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open: %q %v", got, err)
	}
	if _, err := b.Open(sealed, []byte("provider-2")); err == nil {
		t.Fatal("a secret moved to another owner opened")
	}
	other := make([]byte, 32)
	_, _ = rand.Read(other)
	b2, _ := NewBox(other)
	if _, err := b2.Open(sealed, []byte("provider-1")); err == nil {
		t.Fatal("opened with the wrong key")
	}
	tampered := sealed[:len(sealed)-2] + "AA"
	if _, err := b.Open(tampered, []byte("provider-1")); err == nil {
		t.Fatal("tampered secret opened")
	}
	for _, bad := range []string{"", "v1:", "v1:!!", "v2:abcd"} {
		if _, err := b.Open(bad, nil); err == nil {
			t.Errorf("opened %q", bad)
		}
	}
}

func TestParseKey(t *testing.T) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	for _, s := range []string{base64.StdEncoding.EncodeToString(key), "  " + base64.StdEncoding.EncodeToString(key) + "\n", strings.Repeat("ab", 32)} {
		if k, err := ParseKey(s); err != nil || len(k) != 32 {
			t.Errorf("ParseKey(%q) = %d bytes, %v", s, len(k), err)
		}
	}
	for _, s := range []string{"", "short", base64.StdEncoding.EncodeToString(key[:16]), strings.Repeat("zz", 32)} {
		if _, err := ParseKey(s); err == nil {
			t.Errorf("ParseKey(%q) accepted", s)
		}
	}
	if _, err := NewBox(key[:31]); err == nil {
		t.Error("NewBox accepted a short key")
	}
}
