package o2_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/cnf/cnftest"
	"github.com/nephoran/o2ims/internal/oidctest"
	"github.com/nephoran/o2ims/internal/testenv"
	"github.com/nephoran/o2ims/internal/testserver"
	nephv1 "github.com/nephoran/o2ims/pkg/apis/nephoran/v1"
	o2 "github.com/nephoran/o2ims/pkg/client"
)

// startController runs "o2ims controller" with args and returns a
// function that kills it (SIGKILL, as a crash would) and waits for it.
// Its log is printed when the test fails.
func startController(t *testing.T, args ...string) func() {
	t.Helper()
	p, err := testserver.Run(serverBinary, append([]string{"controller", "--log-format", "json"}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("controller log:\n%s", p.Logs())
		}
	})
	return p.Kill
}

// TestEndToEndIntentProcessing is the Nephoran flow: a NetworkIntent in a
// real cluster, "Deploy 5G AMF with high availability in US West region",
// becomes through `o2ims controller` one ACTIVE O2 deployment spread over
// two pools of that region; a restarted controller adopts it instead of
// making a second, a change of replicas scales it, a change the IMS
// cannot place keeps it running and says why, and deleting the intent
// deletes the deployment before the intent goes.
func TestEndToEndIntentProcessing(t *testing.T) {
	plane := testenv.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()

	uniq := clusterTest(t, "ni")
	for _, pool := range []string{uniq + "-a", uniq + "-b"} {
		n := pool + "-n1"
		labels := map[string]string{"nephoran.io/resource-pool": pool, "topology.kubernetes.io/region": "us-west-1"}
		if err := plane.CreateNode(ctx, n, labels, "4", "8Gi"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = plane.DeleteNode(context.Background(), n) })
	}
	dir := t.TempDir()
	// One catalog for the controller and for the IMS's advisor.
	vnfd := "vnfd-" + uniq
	catalog := filepath.Join(dir, "catalog.yaml")
	if err := os.WriteFile(catalog, []byte("amf: {vnfdId: "+vnfd+", flavourId: small}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The IMS takes OAuth 2.0 bearer tokens; the controller gets its own
	// by the client credentials grant, as the Nephoran platform configures it.
	idp := oidctest.New(t)
	addr, _ := startServerProc(t, "--local-provider=false", "--cnf-operation-timeout", "90s", "--refresh-interval", "2s", "--catalog", catalog,
		"--oidc-jwks-url", idp.JWKSURL(), "--oidc-issuer", idp.URL, "--oidc-audience", oidctest.Audience)
	c, err := o2.NewClient(&o2.Config{Endpoint: "http://" + addr, Authentication: &o2.AuthConfig{Type: o2.AuthOAuth2, OAuth2: &o2.OAuth2Config{
		TokenURL: idp.TokenURL(), ClientID: oidctest.ClientID, ClientSecret: oidctest.Secret, Scopes: []string{o2.ScopeRead, o2.ScopeWrite},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	provName := uniq + "-cluster"
	if _, err := c.Providers().Create(ctx, o2.ProviderRequest{Name: provName, Config: o2.ProviderConfig{Kubeconfig: string(plane.RESTConfigBytes)}}); err != nil {
		t.Fatalf("register provider: %v", err)
	}
	if _, err := c.CNFPackages().Upload(ctx, o2.PackageMetadata{
		Name: "amf", Version: "1.0.0", VnfdInfo: o2.VnfdInfo{VnfdID: vnfd},
		Flavours: []o2.Flavour{{FlavourID: "small", Replicas: new(1), Resources: &o2.FlavourResources{CPU: "500m", Memory: "64Mi"}}},
	}, bytes.NewReader(cnftest.HelmChart(t))); err != nil {
		t.Fatalf("upload: %v", err)
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	secret := filepath.Join(dir, "client-secret")
	for f, body := range map[string][]byte{kubeconfig: plane.RESTConfigBytes, secret: []byte(oidctest.Secret + "\n")} {
		if err := os.WriteFile(f, body, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	controllerArgs := []string{"--kubeconfig", kubeconfig, "--o2ims-endpoint", "http://" + addr, "--catalog", catalog,
		"--oauth2-token-url", idp.TokenURL(), "--oauth2-client-id", oidctest.ClientID, "--oauth2-client-secret-file", secret,
		"--install-crds", "--namespace", uniq, "--poll-interval", "500ms", "--resync-interval", "2s"}
	stopController := startController(t, controllerArgs...)

	if err := plane.Do(ctx, "POST", "/api/v1/namespaces", "", map[string]any{"metadata": map[string]any{"name": uniq}}, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = plane.Do(context.Background(), "DELETE", "/api/v1/namespaces/"+uniq, "", nil, nil) })
	intents := "/apis/nephoran.com/v1/namespaces/" + uniq + "/networkintents"
	// The controller installs the CRD.
	waitFor(t, "NetworkIntent API", func() bool { return plane.Do(ctx, "GET", intents, "", nil, nil) == nil })

	// The API server enforces the CRD's schema.
	err = plane.Do(ctx, "POST", intents, "", map[string]any{
		"apiVersion": "nephoran.com/v1", "kind": "NetworkIntent", "metadata": map[string]any{"name": "bad"},
		"spec": map[string]any{"intent": "x", "targetComponents": []string{"mme"}},
	}, nil)
	if se, ok := err.(*testenv.StatusError); !ok || se.Code != 422 || !strings.Contains(se.Body, "targetComponents") {
		t.Fatalf("an intent naming mme: %v", err)
	}

	name := "amf-west"
	ni := map[string]any{
		"apiVersion": "nephoran.com/v1", "kind": "NetworkIntent", "metadata": map[string]any{"name": name},
		"spec": map[string]any{"intent": "Deploy 5G AMF with high availability in US West region", "targetComponents": []string{"AMF"}, "priority": "high"},
	}
	if err := plane.Do(ctx, "POST", intents, "", ni, nil); err != nil {
		t.Fatalf("create intent: %v", err)
	}
	get := func() *nephv1.NetworkIntent {
		var got nephv1.NetworkIntent
		if err := plane.Do(ctx, "GET", intents+"/"+name, "", nil, &got); err != nil {
			t.Fatalf("get intent: %v", err)
		}
		return &got
	}
	waitIntent := func(what string, cond func(*nephv1.NetworkIntent) bool) *nephv1.NetworkIntent {
		t.Helper()
		var last *nephv1.NetworkIntent
		for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(250 * time.Millisecond) {
			last = get()
			if cond(last) {
				return last
			}
			if time.Now().After(deadline) {
				b, _ := json.MarshalIndent(last.Status, "", "  ")
				t.Fatalf("intent not %s after 2 minutes; status:\n%s", what, b)
			}
		}
	}
	active := func(gen int64) func(*nephv1.NetworkIntent) bool {
		return func(n *nephv1.NetworkIntent) bool {
			return n.Status.Phase == nephv1.PhaseActive && n.Status.ObservedGeneration == gen
		}
	}
	got := waitIntent("Active", active(1))
	if got.Spec.IntentType != nephv1.IntentDeployment || !slices.Contains(got.Finalizers, "nephoran.com/o2ims-deployment") {
		t.Errorf("defaults and finalizer: type %q, finalizers %v", got.Spec.IntentType, got.Finalizers)
	}
	res := got.Status.ProcessingResults
	if res == nil || !res.HighAvailability || res.Region != "us-west" || res.Source != "rules" || len(res.ResourcePools) != 2 ||
		len(res.NetworkFunctions) != 1 || res.NetworkFunctions[0] != "amf×2" || res.ProcessedAt == nil {
		t.Errorf("processing results %+v", res)
	}
	id := got.Status.DeploymentID
	d, err := c.Deployments().Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	pools := map[string]bool{}
	for _, cs := range d.Status.Components {
		pools[cs.ResourcePoolName] = true
	}
	if d.Status.Phase != o2.DeploymentActive || !strings.Contains(d.Name, name) || d.Name != got.Status.DeploymentName ||
		len(d.Components) != 1 || d.Components[0].VnfdID != vnfd || d.Components[0].Replicas != 2 || len(pools) != 2 ||
		d.Extensions["nephoran.com/intent"] != uniq+"/"+name || d.Extensions["nephoran.com/intent-uid"] != string(got.UID) {
		t.Fatalf("deployment %s: %+v on pools %v", d.Name, d, pools)
	}
	ours := func() []o2.Deployment {
		page, err := c.Deployments().List(ctx, o2.ListOptions{Filter: o2.Cont("name", name)})
		if err != nil {
			t.Fatal(err)
		}
		return page.Items
	}
	if n := len(ours()); n != 1 {
		t.Fatalf("%d deployments for the intent, want 1", n)
	}

	// A restarted controller adopts the deployment; more replicas scale it.
	stopController()
	stopController = startController(t, controllerArgs...)
	patch := func(body string) {
		t.Helper()
		if err := plane.Do(ctx, "PATCH", intents+"/"+name, "application/merge-patch+json", []byte(body), nil); err != nil {
			t.Fatalf("patch intent: %v", err)
		}
	}
	patch(`{"spec": {"parameters": {"replicas": 3}}}`)
	got = waitIntent("scaled and Active", func(n *nephv1.NetworkIntent) bool {
		return active(2)(n) && n.Status.ProcessingResults != nil && slices.Contains(n.Status.ProcessingResults.NetworkFunctions, "amf×3")
	})
	if got.Status.DeploymentID != id {
		t.Errorf("deployment %s replaced by %s on a change of replicas", id, got.Status.DeploymentID)
	}
	if d, err = c.Deployments().Get(ctx, id); err != nil || d.Components[0].Replicas != 3 {
		t.Fatalf("deployment after scaling: %+v, %v", d, err)
	}
	if n := len(ours()); n != 1 {
		t.Fatalf("%d deployments for the intent after a restart and a change, want 1", n)
	}

	// A region without pools: the running deployment stays and the intent
	// says why it cannot move.
	patch(`{"spec": {"region": "ap-south"}}`)
	got = waitIntent("Failed", func(n *nephv1.NetworkIntent) bool {
		return n.Status.Phase == nephv1.PhaseFailed && n.Status.ObservedGeneration == 3
	})
	if !strings.Contains(got.Status.LastMessage, "region") || !strings.Contains(got.Status.LastMessage, "keeps running") {
		t.Errorf("message %q", got.Status.LastMessage)
	}
	if d, err = c.Deployments().Get(ctx, id); err != nil || d.Status.Phase == o2.DeploymentDeleting {
		t.Fatalf("deployment after an unplaceable change: %+v, %v", d, err)
	}
	patch(`{"spec": {"region": null}}`)
	waitIntent("Active again", active(4))

	// Deleting the intent deletes the deployment first.
	if err := plane.Do(ctx, "DELETE", intents+"/"+name, "", nil, nil); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(250 * time.Millisecond) {
		err := plane.Do(ctx, "GET", intents+"/"+name, "", nil, nil)
		if testenv.IsNotFound(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("intent still there 2 minutes after its deletion: %v", err)
		}
	}
	if _, err := c.Deployments().Get(ctx, id); !o2.IsNotFound(err) {
		t.Errorf("the intent is gone but its deployment answers %v", err)
	}

	// With --use-advisor the IMS's advisor plans the deployment (here its
	// rule-based planner, the server having no model); the plan it
	// returns is what runs.
	stopController()
	stopController = startController(t, append(controllerArgs, "--use-advisor")...)
	defer stopController()
	ni["metadata"] = map[string]any{"name": name}
	ni["spec"] = map[string]any{"intent": "Deploy 5G AMF with 3 replicas in US West region", "targetComponents": []string{"AMF"}}
	if err := plane.Do(ctx, "POST", intents, "", ni, nil); err != nil {
		t.Fatalf("create intent: %v", err)
	}
	got = waitIntent("Active with the advisor's plan", active(1))
	if res := got.Status.ProcessingResults; res == nil || res.Source != "advisor" || !slices.Contains(res.NetworkFunctions, "amf×3") {
		t.Errorf("processing results %+v", res)
	}
	if d, err := c.Deployments().Get(ctx, got.Status.DeploymentID); err != nil || d.Extensions["nephoran.com/intent-uid"] != string(got.UID) || d.Components[0].Replicas != 3 {
		t.Fatalf("the advisor's deployment: %+v, %v", d, err)
	}
	if recs, err := c.Advisor().List(ctx, o2.ListOptions{}); err != nil || len(recs.Items) == 0 {
		t.Errorf("the advisor was not asked: %+v, %v", recs, err)
	}
}
