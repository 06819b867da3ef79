package e2e

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/oidctest"
)

// The O-RAN SC O2IMS compliance suite (o-ran-sc/it-test,
// test_scripts/O2IMS_Compliance_Test), its steps re-expressed against the
// real binary with a real OIDC issuer. Each test names its section; each
// step its case.

// compliant starts a server that requires tokens of idp and returns it
// with a valid SMO token.
func compliant(t *testing.T) (*server, string) {
	t.Helper()
	idp := oidctest.New(t)
	s := start(t, "--oidc-jwks-url", idp.JWKSURL(), "--oidc-issuer", idp.URL, "--oidc-audience", oidctest.Audience)
	return s, idp.Sign("o2ims:read o2ims:write", time.Hour)
}

// clientError checks an error answer as the suite's
// client_errors_properties.json does: status and detail are required.
func clientError(t *testing.T, step string, status int, body []byte, want int) {
	t.Helper()
	var p struct {
		Status *int    `json:"status"`
		Detail *string `json:"detail"`
	}
	if status != want || json.Unmarshal(body, &p) != nil || p.Status == nil || *p.Status != want || p.Detail == nil || *p.Detail == "" {
		t.Errorf("%s: %d %s, want %d with status and detail", step, status, body, want)
	}
}

// 7.3.8 SMO gets a security error response while issuing APIs with an
// incorrect token.
func TestCompliance738IncorrectToken(t *testing.T) {
	s, token := compliant(t)

	// s1: no Authorization header.
	status, _, body := s.get(t, inv+"/v1/")
	clientError(t, "s1 without a token", status, body, 401)

	// s2: the valid token with its first ten characters moved to the end,
	// on a request that would also be a 400 (the token is judged first).
	s.token = token[10:] + token[:10]
	status, _, body = s.get(t, inv+"/v1/resourceTypes?fields=(resourceTypeId,WrongAttrName)")
	clientError(t, "s2 with an invalid token", status, body, 401)

	// s3: the valid token reads the O-Cloud.
	s.token = token
	status, _, body = s.get(t, inv+"/v1")
	var c map[string]any
	if status != 200 || json.Unmarshal(body, &c) != nil {
		t.Fatalf("s3 with a valid token: %d %s", status, body)
	}
	for _, k := range []string{"description", "globalCloudId", "serviceUri", "name", "oCloudId"} {
		if _, ok := c[k]; !ok {
			t.Errorf("s3: the O-Cloud lacks %s (ocloud_properties.json requires it): %s", k, body)
		}
	}
}

// 7.3.12 SMO gets 404 when issuing APIs with wrong data.
func TestCompliance7312WrongData(t *testing.T) {
	s, token := compliant(t)
	s.token = token
	const unknown = "69253c4b-8398-4602-855d-783865f5f25c"
	for step, path := range map[string]string{
		"s1 delete an unknown inventory subscription": inv + "/v1/subscriptions/" + unknown,
		"s2 delete an unknown alarm subscription":     "/o2ims-infrastructureMonitoring/v1/alarmSubscriptions/" + unknown,
	} {
		status, _, body := s.do(t, "DELETE", path)
		clientError(t, step, status, body, 404)
	}
}
