package notify

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/nephoran/o2ims/internal/ims"
)

func prefixes(t *testing.T, s string) []netip.Prefix {
	t.Helper()
	p, err := ParsePrefixes(s)
	if err != nil {
		t.Fatalf("ParsePrefixes(%q): %v", s, err)
	}
	return p
}

func TestCheckIP(t *testing.T) {
	tests := []struct {
		name   string
		policy Policy
		ip     string
		denied bool
	}{
		// The built-in deny list.
		{"public v4", Policy{}, "192.0.2.10", false},
		{"private v4", Policy{}, "10.1.2.3", false},
		{"public v6", Policy{}, "2001:db8::1", false},
		{"metadata", Policy{}, "169.254.169.254", true},
		{"link-local v4", Policy{}, "169.254.1.1", true},
		{"metadata v4-mapped", Policy{}, "::ffff:169.254.169.254", true},
		{"link-local v6", Policy{}, "fe80::1", true},
		{"link-local v6 with zone", Policy{}, "fe80::1%eth0", true},
		{"aws v6 metadata", Policy{}, "fd00:ec2::254", true},
		{"unspecified v4", Policy{}, "0.0.0.0", true},
		{"this network", Policy{}, "0.1.2.3", true},
		{"unspecified v6", Policy{}, "::", true},
		{"multicast v4", Policy{}, "224.0.0.1", true},
		{"multicast v6", Policy{}, "ff02::1", true},
		// Loopback: allowed by default, refused on request.
		{"loopback allowed", Policy{}, "127.0.0.1", false},
		{"loopback v6 allowed", Policy{}, "::1", false},
		{"loopback 127/8 allowed", Policy{}, "127.3.4.5", false},
		{"loopback denied", Policy{DenyLoopback: true}, "127.0.0.1", true},
		{"loopback 127/8 denied", Policy{DenyLoopback: true}, "127.3.4.5", true},
		{"loopback v6 denied", Policy{DenyLoopback: true}, "::1", true},
		{"loopback v4-mapped denied", Policy{DenyLoopback: true}, "::ffff:127.0.0.1", true},
		{"DenyLoopback leaves others", Policy{DenyLoopback: true}, "192.0.2.10", false},
		// Deny list.
		{"deny list hit", Policy{Deny: prefixes(t, "10.0.0.0/8")}, "10.1.2.3", true},
		{"deny list miss", Policy{Deny: prefixes(t, "10.0.0.0/8")}, "192.168.1.1", false},
		{"deny single address", Policy{Deny: prefixes(t, "192.0.2.7")}, "192.0.2.7", true},
		{"deny v6", Policy{Deny: prefixes(t, "2001:db8::/32")}, "2001:db8::1", true},
		// Allow list.
		{"allow list hit", Policy{Allow: prefixes(t, "10.0.0.0/8")}, "10.1.2.3", false},
		{"allow list miss", Policy{Allow: prefixes(t, "10.0.0.0/8")}, "192.168.1.1", true},
		{"allow list miss loopback", Policy{Allow: prefixes(t, "10.0.0.0/8")}, "127.0.0.1", true},
		{"deny wins inside allow", Policy{Allow: prefixes(t, "10.0.0.0/8"), Deny: prefixes(t, "10.9.0.0/16")}, "10.9.1.1", true},
		{"allow beside deny", Policy{Allow: prefixes(t, "10.0.0.0/8"), Deny: prefixes(t, "10.9.0.0/16")}, "10.8.1.1", false},
		// An allow prefix inside a built-in denied range overrides it...
		{"explicit link-local allow", Policy{Allow: prefixes(t, "169.254.10.0/24")}, "169.254.10.5", false},
		{"explicit loopback allow", Policy{DenyLoopback: true, Allow: prefixes(t, "127.0.0.1")}, "127.0.0.1", false},
		// ...but a broad allow does not open what is denied inside it.
		{"allow all keeps metadata denied", Policy{Allow: prefixes(t, "0.0.0.0/0,::/0")}, "169.254.169.254", true},
		{"allow all keeps link-local v6 denied", Policy{Allow: prefixes(t, "0.0.0.0/0,::/0")}, "fe80::1", true},
		{"allow all keeps loopback denied", Policy{DenyLoopback: true, Allow: prefixes(t, "0.0.0.0/0,::/0")}, "127.0.0.1", true},
		{"allow all keeps unspecified denied", Policy{Allow: prefixes(t, "0.0.0.0/0")}, "0.0.0.0", true},
		{"allow all allows public", Policy{Allow: prefixes(t, "0.0.0.0/0,::/0")}, "192.0.2.10", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.policy.CheckIP(netip.MustParseAddr(tc.ip))
			if tc.denied && err == nil {
				t.Fatalf("CheckIP(%s) allowed, want denied", tc.ip)
			}
			if !tc.denied && err != nil {
				t.Fatalf("CheckIP(%s) = %v, want allowed", tc.ip, err)
			}
		})
	}
}

// noDNS is a resolver that answers from /etc/hosts only: every DNS query
// fails at once, so tests do not depend on the network.
var noDNS = &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
	return nil, errors.New("no DNS in tests")
}}

func TestCheckURL(t *testing.T) {
	def := Policy{Resolver: noDNS}
	strict := Policy{Resolver: noDNS, DenyLoopback: true}
	tests := []struct {
		name   string
		policy Policy
		url    string
		want   string // substring of the error; "" means valid
	}{
		{"public ip", def, "http://192.0.2.10:8080/notify", ""},
		{"https", def, "https://192.0.2.10/notify?x=1", ""},
		{"v6 literal", def, "http://[2001:db8::1]:9000/cb", ""},
		{"loopback default", def, "http://127.0.0.1:9000/cb", ""},
		{"localhost default", def, "http://localhost:9000/cb", ""},
		{"loopback strict", strict, "http://127.0.0.1:9000/cb", "loopback"},
		{"localhost strict", strict, "http://localhost:9000/cb", "loopback"},
		{"v6 loopback strict", strict, "http://[::1]:9000/cb", "loopback"},
		{"metadata", def, "http://169.254.169.254/latest/meta-data/", "169.254.169.254"},
		{"link-local v6", def, "http://[fe80::1]/cb", "fe80::1"},
		{"link-local v6 zone", def, "http://[fe80::1%25eth0]/cb", "fe80::1"},
		{"unspecified", def, "http://0.0.0.0:9000/cb", "0.0.0.0"},
		{"deny list", Policy{Resolver: noDNS, Deny: prefixes(t, "192.0.2.0/24")}, "http://192.0.2.10/cb", "deny list"},
		{"allow list", Policy{Resolver: noDNS, Allow: prefixes(t, "10.0.0.0/8")}, "http://192.0.2.10/cb", "allow list"},
		{"credentials", def, "http://user:pw@192.0.2.10/cb", "credentials"},
		{"user only", def, "http://user@192.0.2.10/cb", "credentials"},
		{"ftp", def, "ftp://192.0.2.10/cb", "http or https"},
		{"file", def, "file:///etc/passwd", "http or https"},
		{"relative", def, "/notify", "http or https"},
		{"no host", def, "http:///cb", "no host"},
		{"fragment", def, "http://192.0.2.10/cb#frag", "fragment"},
		{"empty", def, "", "required"},
		{"too long", def, "http://192.0.2.10/" + strings.Repeat("a", 2100), "longer"},
		{"unresolvable", def, "http://no-such-host.invalid/cb", "does not resolve"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.policy.CheckURL(context.Background(), tc.url)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("CheckURL(%q) = %v, want valid", tc.url, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckURL(%q) valid, want error containing %q", tc.url, tc.want)
			}
			if code := ims.ErrorCode(err); code != ims.EINVALID {
				t.Fatalf("CheckURL(%q) error code %q (%v), want %q", tc.url, code, err, ims.EINVALID)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("CheckURL(%q) = %v, want it to mention %q", tc.url, err, tc.want)
			}
		})
	}
}

func TestParsePrefixes(t *testing.T) {
	got, err := ParsePrefixes(" 10.0.0.0/8, 192.0.2.7 ,, 2001:db8::1, 10.1.2.3/16")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.0.2.7/32", "2001:db8::1/128", "10.1.0.0/16"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Fatalf("prefix %d: got %s, want %s", i, got[i], want[i])
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "not-an-ip", "10.0.0/8"} {
		if _, err := ParsePrefixes(bad); err == nil {
			t.Errorf("ParsePrefixes(%q) accepted", bad)
		}
	}
}
