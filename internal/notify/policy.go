// Package notify delivers notifications to subscriber callbacks over HTTP:
// the callback address policy (an SSRF guard), the webhook POST and the
// classification of its outcome.
package notify

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"

	"github.com/nephoran/o2ims/internal/ims"
)

// defaultDenied are never valid callback destinations unless explicitly
// allowed: link-local (including cloud metadata at 169.254.169.254),
// "this network", and the IPv6 metadata address some clouds use.
var defaultDenied = []netip.Prefix{
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("fd00:ec2::254/128"),
}

// Policy decides which addresses callbacks may reach.
type Policy struct {
	// DenyLoopback forbids 127.0.0.0/8 and ::1. Loopback is allowed by
	// default so that a subscriber on the same host works in development.
	DenyLoopback bool
	// Deny adds prefixes to the built-in deny list.
	Deny []netip.Prefix
	// Allow, when not empty, is the only set of prefixes callbacks may
	// reach (the deny lists still apply, except for prefixes listed here
	// explicitly, which override the built-in list).
	Allow []netip.Prefix
	// Resolver looks host names up; nil uses net.DefaultResolver.
	Resolver *net.Resolver
}

// loopbackPrefixes are what DenyLoopback refuses.
var loopbackPrefixes = []netip.Prefix{
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("::1/128"),
}

// CheckIP returns an error when ip may not be reached.
//
// An allow prefix overrides a built-in denial (link-local, metadata,
// loopback under DenyLoopback) only when it lies inside the denied range,
// that is when the operator named that range explicitly: an allow list of
// 0.0.0.0/0 does not open the cloud metadata address. The unspecified
// address (which connects to the local host) and multicast are never
// allowed.
func (p Policy) CheckIP(ip netip.Addr) error {
	// A zone (fe80::1%eth0) makes netip.Prefix.Contains false for every
	// prefix, which would slip link-local addresses past the deny lists.
	ip = ip.Unmap().WithZone("")
	if !ip.IsValid() {
		return fmt.Errorf("invalid address")
	}
	var allowedBy []netip.Prefix
	for _, a := range p.Allow {
		if a.Contains(ip) {
			allowedBy = append(allowedBy, a)
		}
	}
	if len(p.Allow) > 0 && len(allowedBy) == 0 {
		return fmt.Errorf("address %s is not in the callback allow list", ip)
	}
	for _, d := range p.Deny {
		if d.Contains(ip) {
			return fmt.Errorf("address %s is in the callback deny list", ip)
		}
	}
	if ip.IsUnspecified() || ip.IsMulticast() {
		return fmt.Errorf("address %s is not a unicast address", ip)
	}
	for _, d := range defaultDenied {
		if d.Contains(ip) && !within(allowedBy, d) {
			return fmt.Errorf("address %s is link-local, unspecified or a cloud metadata address", ip)
		}
	}
	if p.DenyLoopback && ip.IsLoopback() {
		explicit := false
		for _, l := range loopbackPrefixes {
			explicit = explicit || within(allowedBy, l)
		}
		if !explicit {
			return fmt.Errorf("address %s is loopback, which this server does not allow", ip)
		}
	}
	return nil
}

// within reports whether one of the prefixes lies inside d.
func within(prefixes []netip.Prefix, d netip.Prefix) bool {
	for _, a := range prefixes {
		if a.Bits() >= d.Bits() && d.Contains(a.Addr()) {
			return true
		}
	}
	return false
}

// CheckURL validates a callback URL: absolute http(s), a host, no
// credentials, and every address the host resolves to allowed.
func (p Policy) CheckURL(ctx context.Context, raw string) error {
	if raw == "" {
		return ims.Errorf(ims.EINVALID, "callback: required")
	}
	if len(raw) > 2048 {
		return ims.Errorf(ims.EINVALID, "callback: longer than 2048 characters")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return &ims.Error{Code: ims.EINVALID, Message: "callback: not a valid URL (an absolute http or https URL without spaces or control characters)", Err: err}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return ims.Errorf(ims.EINVALID, "callback: must be an absolute http or https URL")
	}
	if u.Host == "" || u.Hostname() == "" {
		return ims.Errorf(ims.EINVALID, "callback: has no host")
	}
	if u.User != nil {
		return ims.Errorf(ims.EINVALID, "callback: must not carry credentials")
	}
	if u.Fragment != "" {
		return ims.Errorf(ims.EINVALID, "callback: must not have a fragment")
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		if err := p.CheckIP(ip); err != nil {
			return ims.Errorf(ims.EINVALID, "callback: %v", err)
		}
		return nil
	}
	r := p.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return ims.Errorf(ims.EINVALID, "callback: host %q does not resolve", host)
	}
	for _, a := range addrs {
		if err := p.CheckIP(a); err != nil {
			return ims.Errorf(ims.EINVALID, "callback: host %q: %v", host, err)
		}
	}
	return nil
}

// control is a net.Dialer Control function that enforces the policy on the
// address actually connected to, so a host name that changes what it
// resolves to after validation (DNS rebinding) cannot reach a denied one.
func (p Policy) control(network, address string, _ syscall.RawConn) error {
	if !strings.HasPrefix(network, "tcp") {
		return &DeniedError{Address: address, Err: fmt.Errorf("network %s not allowed for callbacks", network)}
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &DeniedError{Address: address, Err: err}
	}
	if err := p.CheckIP(ap.Addr()); err != nil {
		return &DeniedError{Address: address, Err: err}
	}
	return nil
}

// DeniedError is the refusal, at connect time, of an address the policy
// does not allow. Webhook.Post treats it as final: the same address would
// be refused again.
type DeniedError struct {
	Address string
	Err     error
}

func (e *DeniedError) Error() string { return "callback address denied by policy: " + e.Err.Error() }

// Unwrap returns the policy's reason.
func (e *DeniedError) Unwrap() error { return e.Err }

// ParsePrefixes parses comma-separated CIDR prefixes (single addresses
// become /32 or /128).
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", f, err)
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		pfx, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", f, err)
		}
		out = append(out, pfx.Masked())
	}
	return out, nil
}
