package o2

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestProblemErrorDecoding(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		want        ProblemError
		msg         string
	}{
		{
			name: "problem details", status: 404, contentType: "application/problem+json",
			body: `{"type":"about:blank","title":"Not Found","status":404,"detail":"resource pool \"x\" not found","instance":"/o2ims-infrastructureInventory/v1/resourcePools/x"}`,
			want: ProblemError{Status: 404, Type: "about:blank", Title: "Not Found", Detail: `resource pool "x" not found`, Instance: "/o2ims-infrastructureInventory/v1/resourcePools/x"},
			msg:  `404 Not Found: resource pool "x" not found`,
		},
		{
			name: "status line wins over body", status: 400, contentType: "application/problem+json; charset=utf-8",
			body: `{"status":500,"detail":"bad filter","title":"Bad Request","type":"urn:x"}`,
			want: ProblemError{Status: 400, Type: "urn:x", Title: "Bad Request", Detail: "bad filter", Instance: "/p"},
			msg:  "400 Bad Request: bad filter",
		},
		{
			name: "plain text body", status: 502, contentType: "text/html",
			body: "<html>\n  <body>Bad   gateway</body></html>",
			want: ProblemError{Status: 502, Type: "about:blank", Title: "Bad Gateway", Detail: "<html> <body>Bad gateway</body></html>", Instance: "/p"},
			msg:  "502 Bad Gateway: <html> <body>Bad gateway</body></html>",
		},
		{
			name: "empty body", status: 401, contentType: "",
			want: ProblemError{Status: 401, Type: "about:blank", Title: "Unauthorized", Instance: "/p"},
			msg:  "401 Unauthorized",
		},
		{
			name: "invalid json", status: 500, contentType: "application/problem+json", body: `{"detail":`,
			want: ProblemError{Status: 500, Type: "about:blank", Title: "Internal Server Error", Detail: `{"detail":`, Instance: "/p"},
			msg:  `500 Internal Server Error: {"detail":`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newTestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.contentType != "" {
					w.Header().Set("Content-Type", tt.contentType)
				}
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			}))
			c := newTestClient(t, Config{Endpoint: srv.URL + "/p", MaxRetries: -1})
			// CloudInfo addresses /p/o2ims-infrastructureInventory/v1;
			// the stand-in instance is that path, so compare separately.
			_, err := c.CloudInfo(context.Background())
			var pe *ProblemError
			if !errors.As(err, &pe) {
				t.Fatalf("err %T %v is not a ProblemError", err, err)
			}
			got := *pe
			if got.Instance == "/p"+InventoryAPIPrefix {
				got.Instance = "/p"
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			if pe.Error() != tt.msg {
				t.Errorf("Error() = %q, want %q", pe.Error(), tt.msg)
			}
			if StatusCode(err) != tt.status {
				t.Errorf("StatusCode = %d", StatusCode(err))
			}
		})
	}
}

func TestStatusHelpers(t *testing.T) {
	wrap := func(status int) error {
		return fmt.Errorf("getting pool: %w", &ProblemError{Status: status})
	}
	checks := []struct {
		f      func(error) bool
		status int
	}{
		{IsNotFound, 404}, {IsBadRequest, 400}, {IsUnauthorized, 401}, {IsForbidden, 403}, {IsConflict, 409},
	}
	for _, c := range checks {
		if !c.f(wrap(c.status)) {
			t.Errorf("helper for %d is false on a wrapped %d", c.status, c.status)
		}
		if c.f(wrap(500)) || c.f(errors.New("x")) || c.f(nil) {
			t.Errorf("helper for %d is true on another error", c.status)
		}
	}
	if !IsAuthError(wrap(401)) || !IsAuthError(wrap(403)) || IsAuthError(wrap(404)) {
		t.Error("IsAuthError")
	}
	if StatusCode(errors.New("x")) != 0 {
		t.Error("StatusCode of a plain error")
	}
}

func TestPlainDetailIsBounded(t *testing.T) {
	d := plainDetail([]byte(strings.Repeat("é", 1000)))
	if len(d) > maxProblemDetail+len("…") || !strings.HasSuffix(d, "…") {
		t.Errorf("detail of %d bytes", len(d))
	}
	if plainDetail([]byte{0xff, 0xfe}) != "" {
		t.Error("binary body kept")
	}
}
