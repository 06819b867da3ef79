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

// serve's agent listener is on by default, on loopback; the command line
// and the configuration file turn it off with an empty address.
func TestAgentListenDefault(t *testing.T) {
	files := map[string]string{"/off.yaml": "agent-listen: \"\"\n", "/on.yaml": "agent-listen: 0.0.0.0:9443\nagent-manual-approval: true\n"}
	readFile := func(p string) ([]byte, error) { return []byte(files[p]), nil }
	for _, tc := range []struct {
		name   string
		args   []string
		listen string
		manual string
	}{
		{"default", nil, "127.0.0.1:8443", "false"},
		{"off on the command line", []string{"--agent-listen="}, "", "false"},
		{"off in the file", []string{"--config", "/off.yaml"}, "", "false"},
		{"elsewhere, with manual approval", []string{"--config", "/on.yaml"}, "0.0.0.0:9443", "true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := newServeCommand().Flags()
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			if err := applyConfig(fs, func(string) string { return "" }, readFile); err != nil {
				t.Fatal(err)
			}
			if got := fs.Lookup("agent-listen").Value.String(); got != tc.listen {
				t.Errorf("agent-listen = %q, want %q", got, tc.listen)
			}
			if got := fs.Lookup("agent-manual-approval").Value.String(); got != tc.manual {
				t.Errorf("agent-manual-approval = %q, want %q", got, tc.manual)
			}
		})
	}
}
