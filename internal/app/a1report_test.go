package app

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/nephoran/o2ims/internal/report"
)

type noReports struct{}

func (noReports) Build(context.Context) (report.Report, error) { return report.Report{}, nil }

// TestA1ReporterOptions: the reporter is off without ICS and targets, and
// refuses a callback listener ICS could not use.
func TestA1ReporterOptions(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	tests := []struct {
		name string
		o    A1ReportOptions
		err  string // "" is no error
		off  bool
	}{
		{"off", A1ReportOptions{}, "", true},
		{"listener without ICS", A1ReportOptions{CallbackListen: "127.0.0.1:0"}, "needs an ICS endpoint", false},
		{"ICS without listener", A1ReportOptions{ICSEndpoint: "http://ics:8083"}, "--a1-callback-listen", false},
		{"ICS not a URL", A1ReportOptions{ICSEndpoint: "ics:8083", CallbackListen: "127.0.0.1:0"}, "ICS base URL", false},
		{"unspecified address without URL", A1ReportOptions{ICSEndpoint: "http://ics:8083", CallbackListen: "0.0.0.0:0"}, "--a1-callback-url", false},
		{"unspecified address with URL", A1ReportOptions{ICSEndpoint: "http://ics:8083", CallbackListen: "0.0.0.0:0", CallbackURL: "http://ims.example:0/ei"}, "", false},
		{"loopback", A1ReportOptions{ICSEndpoint: "http://ics:8083", CallbackListen: "127.0.0.1:0"}, "", false},
		{"targets only", A1ReportOptions{Targets: []string{"http://ric.example/ei"}}, "", false},
		{"bad target", A1ReportOptions{Targets: []string{"ric.example/ei"}}, "report target", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := newA1Reporter(Options{A1: A1Options{Reports: tt.o}}, noReports{}, nil, nil, nil, logger)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one naming %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer r.close()
			if (r == nil) != tt.off {
				t.Fatalf("reporter %v, want off %v", r, tt.off)
			}
		})
	}
}

// TestCallbackURL: the URL given, with the port bound for port 0, or the
// address bound.
func TestCallbackURL(t *testing.T) {
	bound := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9090}
	for _, tt := range []struct {
		given string
		addr  net.Addr
		want  string
	}{
		{"", bound, "http://127.0.0.1:9090"},
		{"https://ims.example/a1", bound, "https://ims.example/a1"},
		{"http://ims.example:0/a1", bound, "http://ims.example:9090/a1"},
		{"", &net.TCPAddr{IP: net.IPv6unspecified, Port: 9090}, ""},
	} {
		if got := callbackURL(tt.given, tt.addr); got != tt.want {
			t.Errorf("callbackURL(%q, %v) = %q, want %q", tt.given, tt.addr, got, tt.want)
		}
	}
}
