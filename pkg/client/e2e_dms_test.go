package o2_test

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/oidctest"
	"github.com/nephoran/o2ims/internal/testenv"
	o2 "github.com/nephoran/o2ims/pkg/client"
)

// TestEndToEndDMSProfile: a cluster's deployment manager carries the
// O2dms Kubernetes-native profile (API endpoint and CA for everyone); its
// credentials only on the deployment manager's own GET, only for a token
// with the scope o2ims:dms-credentials, only on a server that exposes
// them, and never stored with the inventory (so never in lists or
// notifications).
func TestEndToEndDMSProfile(t *testing.T) {
	plane := testenv.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	uniq := clusterTest(t, "dms")
	idp := oidctest.New(t)
	oidc := []string{"--oidc-jwks-url", idp.JWKSURL(), "--oidc-issuer", idp.URL, "--oidc-audience", oidctest.Audience}

	// Exposing credentials without authentication is refused at start.
	out, err := exec.Command(serverBinary, "serve", "--listen", "127.0.0.1:0", "--agent-listen=", "--data-dir", t.TempDir(), "--expose-dms-credentials").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "needs authentication") {
		t.Fatalf("--expose-dms-credentials without authentication: %v\n%s", err, out)
	}

	client := func(addr string, scopes ...string) *o2.Client {
		c, err := o2.NewClient(&o2.Config{Endpoint: "http://" + addr, Authentication: &o2.AuthConfig{Type: o2.AuthOAuth2, OAuth2: &o2.OAuth2Config{
			TokenURL: idp.TokenURL(), ClientID: oidctest.ClientID, ClientSecret: oidctest.Secret, Scopes: scopes,
		}}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// dm registers the plane on a server and returns its deployment
	// manager's id once the inventory has it.
	dm := func(addr string) string {
		admin := client(addr, o2.ScopeRead, o2.ScopeWrite)
		if _, err := admin.Providers().Create(ctx, o2.ProviderRequest{Name: uniq, Config: o2.ProviderConfig{Kubeconfig: string(plane.RESTConfigBytes)}}); err != nil {
			t.Fatalf("register provider: %v", err)
		}
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
			page, err := admin.DeploymentManagers().List(ctx, o2.ListOptions{Filter: o2.Eq("name", uniq)})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) == 1 {
				return page.Items[0].DeploymentManagerID
			}
			if time.Now().After(deadline) {
				t.Fatal("no deployment manager after a minute")
			}
		}
	}
	profile := func(c *o2.Client, id string) map[string]any {
		t.Helper()
		d, err := c.DeploymentManagers().Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Extensions["profileName"] != "k8s" {
			t.Fatalf("profileName %v", d.Extensions["profileName"])
		}
		p, _ := d.Extensions["profileData"].(map[string]any)
		if p["cluster_api_endpoint"] != plane.APIServerURL || !strings.Contains(fmt.Sprint(p["cluster_ca_cert"]), "BEGIN CERTIFICATE") {
			t.Fatalf("profileData %v", p)
		}
		return p
	}

	addr, _ := startServerProc(t, append([]string{"--local-provider=false", "--expose-dms-credentials"}, oidc...)...)
	id := dm(addr)
	reader := client(addr, o2.ScopeRead)
	trusted := client(addr, o2.ScopeRead, "o2ims:dms-credentials")
	if p := profile(reader, id); p["admin_token"] != nil || p["admin_client_key"] != nil {
		t.Errorf("a reader sees credentials: %v", p)
	}
	if p := profile(trusted, id); p["admin_token"] != plane.Token || p["admin_client_key"] == nil || p["admin_user"] == nil {
		t.Errorf("the trusted caller's profile lacks the credentials: %v", p)
	}
	// Lists never carry them: they are not stored with the inventory,
	// from which lists and notifications are made.
	page, err := trusted.DeploymentManagers().List(ctx, o2.ListOptions{Filter: o2.Eq("name", uniq), AllFields: true})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("list: %v, %v", page, err)
	}
	if p, _ := page.Items[0].Extensions["profileData"].(map[string]any); p == nil || p["admin_token"] != nil {
		t.Errorf("the list shows %v", p)
	}

	// A server that does not expose them shows them to nobody.
	addr2, _ := startServerProc(t, append([]string{"--local-provider=false"}, oidc...)...)
	id2 := dm(addr2)
	if p := profile(client(addr2, o2.ScopeRead, "o2ims:dms-credentials"), id2); p["admin_token"] != nil {
		t.Errorf("credentials on a server that does not expose them: %v", p)
	}
}
