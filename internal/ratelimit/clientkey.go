package ratelimit

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// KeyOptions says how to identify anonymous clients.
type KeyOptions struct {
	// TrustedProxies are the networks of reverse proxies in front of the
	// server. X-Forwarded-For is read only when the direct peer is in one of
	// them, and only the entries those proxies appended are believed: any
	// client can write the header, so trusting it blindly would let each
	// request pick its own bucket.
	TrustedProxies []netip.Prefix
}

// ClientKey identifies the client of r for rate limiting, without trusting
// X-Forwarded-For: see KeyOptions.ClientKey.
func ClientKey(r *http.Request, subject string) string {
	return KeyOptions{}.ClientKey(r, subject)
}

// ClientKey identifies the client of r for rate limiting. An authenticated
// client (subject non-empty) is keyed by subject, so it keeps its budget
// across addresses and does not share one with its NAT neighbours. Others are
// keyed by IP address without port: the whole address for IPv4 and the /64
// prefix for IPv6, since one host typically holds a whole /64 and could
// otherwise rotate through fresh buckets. The "sub:" and "ip:" prefixes keep
// a subject from colliding with an address.
func (o KeyOptions) ClientKey(r *http.Request, subject string) string {
	if subject != "" {
		return "sub:" + subject
	}
	host := r.RemoteAddr
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		// Not an IP (a Unix socket, say): all such clients share one bucket,
		// which fails safe.
		return "ip:" + host
	}
	addr = o.forwardedClient(r, normalize(addr))
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return "ip:" + p.String()
	}
	return "ip:" + addr.String()
}

// forwardedClient walks X-Forwarded-For from the right, past trusted
// proxies, to the first address a trusted proxy vouched for but did not
// itself own: the client. Entries left of it are client-supplied and ignored.
func (o KeyOptions) forwardedClient(r *http.Request, peer netip.Addr) netip.Addr {
	if !o.trusted(peer) {
		return peer
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		addr, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			// A garbled entry ends the chain of trust; the last good hop is
			// the best identity we can vouch for.
			break
		}
		client = normalize(addr)
		if !o.trusted(client) {
			break
		}
	}
	return client
}

func (o KeyOptions) trusted(a netip.Addr) bool {
	for _, p := range o.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// normalize drops zones and IPv4-in-IPv6 mapping, so one client has one key
// however its address was spelt.
func normalize(a netip.Addr) netip.Addr {
	return a.WithZone("").Unmap()
}
