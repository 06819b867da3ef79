package main

import (
	"slices"
	"testing"
)

func TestDefaultAgentHosts(t *testing.T) {
	for listen, want := range map[string]string{
		"127.0.0.1:8443":   "127.0.0.1",
		"edge.example:443": "edge.example",
		"[::1]:0":          "::1",
	} {
		if got := defaultAgentHosts(listen); !slices.Equal(got, []string{want}) {
			t.Errorf("defaultAgentHosts(%q) = %v, want [%s]", listen, got, want)
		}
	}
	for _, listen := range []string{":8443", "0.0.0.0:8443", "[::]:8443"} {
		if got := defaultAgentHosts(listen); !slices.Contains(got, "localhost") || len(got) < 1 {
			t.Errorf("defaultAgentHosts(%q) = %v, want this host's name and localhost", listen, got)
		}
	}
}
