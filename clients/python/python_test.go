// Package python_test runs the tests of the Python client
// (clients/python/nephoran_o2ims) with the machine's python3 against the
// real o2ims binary, checks its models against the OpenAPI documents, and
// runs its examples. A missing python3 is a failure, not a skip.
package python_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/nephoran/o2ims/api/openapi"
	"github.com/nephoran/o2ims/internal/oidctest"
	"github.com/nephoran/o2ims/internal/testserver"
)

var (
	// serverBinary is the o2ims binary TestMain builds from the repository.
	serverBinary string
	// repoRoot and clientDir are the repository and clients/python.
	repoRoot, clientDir string
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	clientDir = wd
	repoRoot = filepath.Clean(filepath.Join(wd, "..", ".."))
	dir, err := os.MkdirTemp("", "o2-python-client")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if serverBinary, err = testserver.Build(repoRoot, dir, "./cmd/o2ims"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// python returns the path of python3, failing the test when there is none
// or it is older than the client needs.
func python(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 is not on PATH (%v): the tests of the Python client (clients/python) need Python 3.10 or newer", err)
	}
	out, err := exec.Command(p, "-c", "import sys; print('%d.%d' % sys.version_info[:2]); sys.exit(sys.version_info < (3, 10))").CombinedOutput()
	if err != nil {
		t.Fatalf("%s is Python %s: the Python client needs 3.10 or newer (%v)", p, strings.TrimSpace(string(out)), err)
	}
	return p
}

// pythonEnv is the environment of the Python processes: this process's,
// without O2IMS_* variables, Python path settings and proxies, plus the
// package on PYTHONPATH and extra.
func pythonEnv(extra map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch u := strings.ToUpper(k); {
		case strings.HasPrefix(u, "O2IMS_"), u == "PYTHONPATH", u == "PYTHONHOME", u == "PYTHONSTARTUP",
			u == "HTTP_PROXY", u == "HTTPS_PROXY", u == "ALL_PROXY", u == "NO_PROXY":
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "PYTHONPATH="+clientDir, "PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1")
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	return env
}

// runPython runs python3 with args in dir and returns its combined output.
func runPython(t *testing.T, dir string, env []string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python(t), args...)
	cmd.Dir = dir
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (timed out after 5m)", err)
	}
	return string(out), err
}

// startServer runs "o2ims serve" with extra args on a free loopback port
// and a fresh data directory, without the caller's O2IMS_* settings, and
// returns its host:port once it logs that it is serving.
func startServer(t *testing.T, extra ...string) string {
	t.Helper()
	s, err := testserver.StartEnv(serverBinary, t.TempDir(), pythonEnv(nil), extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Kill()
		if t.Failed() {
			t.Logf("server log:\n%s", s.Logs())
		}
	})
	return s.Addr
}

// waitForPool waits until the local provider has published the host's
// resource pool on the plain server at endpoint.
func waitForPool(t *testing.T, endpoint string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		res, err := http.Get(endpoint + "/o2ims/v1/resourcePools")
		if err != nil {
			continue
		}
		var pools []map[string]any
		err = json.NewDecoder(res.Body).Decode(&pools)
		res.Body.Close()
		if err == nil && len(pools) > 0 {
			return
		}
	}
	t.Fatal("the server published no resource pool within 30s")
}

// TestPythonClient runs every test of clients/python/tests, with
// unittest, against two servers: the defaults (the local host as
// inventory) and one with HTTPS, client certificates and OIDC tokens
// issued by a test identity provider.
func TestPythonClient(t *testing.T) {
	python(t)
	plain := "http://" + startServer(t)
	secure := newSecureServer(t)
	env := map[string]string{
		"O2IMS_ENDPOINT":    plain,
		"O2IMS_TEST_STRICT": "1", // missing settings fail instead of skipping
	}
	for k, v := range secure.env {
		env[k] = v
	}
	args := []string{"-m", "unittest", "discover", "-s", "clients/python/tests", "-v"}
	out, err := runPython(t, repoRoot, pythonEnv(env), args...)
	if err != nil {
		t.Fatalf("python3 %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Log(out)
	summary := out[strings.LastIndex(out, "\nRan ")+1:]
	if !strings.Contains(summary, "\nOK") {
		t.Fatalf("unittest did not report OK:\n%s", out)
	}
	if strings.Contains(summary, "skipped") {
		t.Errorf("tests were skipped; every test must run here:\n%s", out)
	}
}

// TestPythonExamples runs each clients/python/examples/*.py against the
// server and requires exit status 0.
func TestPythonExamples(t *testing.T) {
	python(t)
	examples, err := filepath.Glob(filepath.Join(clientDir, "examples", "*.py"))
	if err != nil || len(examples) == 0 {
		t.Fatalf("no examples in clients/python/examples (%v)", err)
	}
	endpoint := "http://" + startServer(t)
	waitForPool(t, endpoint)
	env := pythonEnv(map[string]string{"O2IMS_ENDPOINT": endpoint})
	for _, ex := range examples {
		name := filepath.Base(ex)
		t.Run(strings.TrimSuffix(name, ".py"), func(t *testing.T) {
			out, err := runPython(t, clientDir, env, filepath.Join("examples", name))
			if err != nil {
				t.Fatalf("python3 examples/%s: %v\n%s", name, err, out)
			}
			t.Log(out)
		})
	}
}

// modelsScript prints the models of the package and the values of its
// enums as JSON.
const modelsScript = `
import dataclasses, json
from nephoran_o2ims import enums, models
out = {"models": {}, "enums": {}}
for name in models.__all__:
    cls = getattr(models, name)
    fields = []
    for f in dataclasses.fields(cls):
        if f.name == "extra":
            continue
        m = f.metadata
        fields.append({"attr": f.name, "json": m.get("json"), "type": m.get("type"), "many": bool(m.get("many"))})
    out["models"][name] = {"schema": cls.__schema__, "required": list(cls.__required__), "fields": fields}
for name in enums.__all__:
    out["enums"][name] = [m.value for m in getattr(enums, name)]
print(json.dumps(out))
`

type pyModel struct {
	Schema   string    `json:"schema"`
	Required []string  `json:"required"`
	Fields   []pyField `json:"fields"`
}

type pyField struct {
	Attr string  `json:"attr"`
	JSON *string `json:"json"`
	Type string  `json:"type"`
	Many bool    `json:"many"`
}

// enumSchemas locates the values of each Python enum in the specs; the
// enums not there hold values the specs only describe in words.
var (
	enumSchemas = map[string]string{
		"AlarmEventType":     "monitoring.yaml#/components/schemas/AlarmEventNotification/properties/notificationEventType",
		"DeploymentPhase":    "nephoran.yaml#/components/schemas/DeploymentPhase",
		"InstantiationState": "nephoran.yaml#/components/schemas/CnfInstance/properties/instantiationState",
		"InventoryEventType": "inventory.yaml#/components/schemas/InventoryChangeNotification/properties/notificationEventType",
		"OperationState":     "nephoran.yaml#/components/schemas/LcmOpOcc/properties/operationState",
		"PerceivedSeverity":  "monitoring.yaml#/components/schemas/PerceivedSeverity",
		"ResourceClass":      "inventory.yaml#/components/schemas/ResourceType/properties/resourceClass",
		"ResourceKind":       "inventory.yaml#/components/schemas/ResourceType/properties/resourceKind",
		"ScaleType":          "nephoran.yaml#/components/schemas/ScaleRequest/properties/type",
		"TerminationType":    "nephoran.yaml#/components/schemas/TerminateRequest/properties/terminationType",
	}
	enumsInWords = map[string]string{
		"CnfPhase": "nephoran.yaml#/components/schemas/CnfInstance/properties/phase",
	}
)

// TestModelsMatchSpecs fails when the Python models and the OpenAPI
// documents disagree: every object schema (named, or written inline in a
// property) has a model, each model has exactly the properties of its
// schema, allOf flattened, with the same types and required names, and
// the enums have the values of the specs. It also fails when models.py is
// not what tools/genmodels writes from the specs.
func TestModelsMatchSpecs(t *testing.T) {
	out, err := runPython(t, clientDir, pythonEnv(nil), "-c", modelsScript)
	if err != nil {
		t.Fatalf("listing the Python models: %v\n%s", err, out)
	}
	var got struct {
		Models map[string]pyModel `json:"models"`
		Enums  map[string][]any   `json:"enums"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("decoding the models: %v\n%s", err, out)
	}
	specs := loadSpecs(t)
	const hint = " (regenerate with 'go run ./clients/python/tools/genmodels')"

	// Every object schema of the specs, named or inline, by location.
	want := map[string]bool{}
	var queue []string
	for _, f := range specs.files() {
		schemas, _ := dig(specs.docs[f], "components", "schemas").(map[string]any)
		for _, name := range sortedKeys(schemas) {
			ptr := f + "#/components/schemas/" + name
			if f == "inventory_v2.yaml" && dig(specs.docs["inventory.yaml"], "components", "schemas", name) != nil {
				// The client reads inventory v1; v2's objects of the
				// same names are v1's models (genmodels does the same).
				continue
			}
			if s, _ := schemas[name].(map[string]any); specs.hasProps(f, s) && !want[ptr] {
				want[ptr] = true
				queue = append(queue, ptr)
			}
		}
	}
	for len(queue) > 0 {
		ptr := queue[0]
		queue = queue[1:]
		props, _, err := specs.properties(ptr)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range props {
			e, err := specs.expect(p)
			if err != nil {
				t.Fatalf("%s: %v", p.ptr, err)
			}
			if e.model != "" && !want[e.model] {
				want[e.model] = true
				queue = append(queue, e.model)
			}
		}
	}

	byPtr := map[string]string{}
	for name, m := range got.Models {
		if other, dup := byPtr[m.Schema]; dup {
			t.Errorf("models %s and %s both claim %s", other, name, m.Schema)
		}
		byPtr[m.Schema] = name
		if !want[m.Schema] {
			t.Errorf("model %s: %s is not an object schema of the specs%s", name, m.Schema, hint)
		}
	}
	for _, ptr := range sortedKeys(want) {
		if _, ok := byPtr[ptr]; !ok {
			t.Errorf("the schema %s has no Python model%s", ptr, hint)
		}
	}

	for _, name := range sortedKeys(got.Models) {
		m := got.Models[name]
		if !want[m.Schema] {
			continue
		}
		props, required, err := specs.properties(m.Schema)
		if err != nil {
			t.Fatalf("model %s: %v", name, err)
		}
		fields := map[string]pyField{}
		for _, f := range m.Fields {
			if f.JSON == nil || *f.JSON == "" {
				t.Errorf("model %s: attribute %s is not an attribute of the API", name, f.Attr)
				continue
			}
			fields[*f.JSON] = f
		}
		for _, p := range props {
			f, ok := fields[p.name]
			if !ok {
				t.Errorf("model %s lacks %s, a property of %s%s", name, p.name, m.Schema, hint)
				continue
			}
			e, _ := specs.expect(p)
			gotType := f.Type
			if mm, isModel := got.Models[f.Type]; isModel {
				gotType = "model " + mm.Schema
			}
			wantType := e.kind
			if e.model != "" {
				wantType = "model " + e.model
			}
			if gotType != wantType || f.Many != e.many {
				t.Errorf("model %s.%s (%s) is %s (list %v), the spec says %s (list %v)%s", name, f.Attr, p.name, gotType, f.Many, wantType, e.many, hint)
			}
		}
		for j := range fields {
			if _, ok := props[j]; !ok {
				t.Errorf("model %s has %s, which %s does not define%s", name, j, m.Schema, hint)
			}
		}
		slices.Sort(required)
		gotReq := slices.Clone(m.Required)
		slices.Sort(gotReq)
		if !slices.Equal(gotReq, required) {
			t.Errorf("model %s requires %v, the spec %v%s", name, gotReq, required, hint)
		}
	}

	for _, name := range sortedKeys(got.Enums) {
		ptr, ok := enumSchemas[name]
		if !ok {
			if _, words := enumsInWords[name]; !words {
				t.Errorf("enum %s is not tied to a schema of the specs in this test", name)
			}
			continue
		}
		node, err := specs.at(ptr)
		if err != nil {
			t.Fatalf("enum %s: %v", name, err)
		}
		values, _ := node["enum"].([]any)
		if fmt.Sprint(normalize(values)) != fmt.Sprint(normalize(got.Enums[name])) {
			t.Errorf("enum %s is %v, %s says %v", name, got.Enums[name], ptr, values)
		}
	}
	for name, ptr := range enumsInWords {
		if _, err := specs.at(ptr); err != nil {
			t.Errorf("enum %s: %v", name, err)
		}
	}

	t.Run("generated file is current", func(t *testing.T) {
		cmd := exec.Command("go", "run", "./clients/python/tools/genmodels", "-check")
		cmd.Dir = repoRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
	})
}

// normalize renders enum values alike whether they came from YAML or
// JSON, in order: the order of an enum's values does not matter.
func normalize(vs []any) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = fmt.Sprint(v)
	}
	slices.Sort(out)
	return out
}

// specSet is the OpenAPI documents, decoded as JSON values.
type specSet struct {
	docs map[string]any
}

func loadSpecs(t *testing.T) *specSet {
	t.Helper()
	s := &specSet{docs: map[string]any{}}
	entries, err := fs.Glob(openapi.Specs, "*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range entries {
		if strings.HasSuffix(name, ".cfg.yaml") {
			continue
		}
		data, err := fs.ReadFile(openapi.Specs, name)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if doc["openapi"] == nil {
			continue
		}
		s.docs[name] = doc
	}
	if len(s.docs) == 0 {
		t.Fatal("no OpenAPI document in api/openapi")
	}
	return s
}

func (s *specSet) files() []string { return sortedKeys(s.docs) }

// at returns the node at ptr, "file#/json/pointer".
func (s *specSet) at(ptr string) (map[string]any, error) {
	file, frag, _ := strings.Cut(ptr, "#")
	doc, ok := s.docs[file]
	if !ok {
		return nil, fmt.Errorf("%s: no document %s", ptr, file)
	}
	n := doc
	for _, seg := range strings.Split(strings.TrimPrefix(frag, "/"), "/") {
		seg = strings.NewReplacer("~1", "/", "~0", "~").Replace(seg)
		switch v := n.(type) {
		case map[string]any:
			n = v[seg]
		case []any:
			var i int
			if _, err := fmt.Sscanf(seg, "%d", &i); err != nil || i < 0 || i >= len(v) {
				return nil, fmt.Errorf("%s: no element %s", ptr, seg)
			}
			n = v[i]
		default:
			n = nil
		}
		if n == nil {
			return nil, fmt.Errorf("%s: nothing at %s", ptr, seg)
		}
	}
	m, ok := n.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s is not an object", ptr)
	}
	return m, nil
}

// ref returns the location a $ref written in file points to.
func ref(file, r string) string {
	target, frag, _ := strings.Cut(r, "#")
	if target != "" {
		file = filepath.ToSlash(filepath.Clean(filepath.Join(filepath.Dir(file), target)))
	}
	return file + "#" + frag
}

// specProp is one property of a schema and the location of its schema.
type specProp struct {
	name string
	ptr  string
	node map[string]any
}

// properties returns the properties of the schema at ptr, allOf members
// included, by name, and the names it requires.
func (s *specSet) properties(ptr string) (map[string]specProp, []string, error) {
	node, err := s.at(ptr)
	if err != nil {
		return nil, nil, err
	}
	props := map[string]specProp{}
	var required []string
	if all, ok := node["allOf"].([]any); ok {
		for i, m := range all {
			mptr := fmt.Sprintf("%s/allOf/%d", ptr, i)
			if mm, _ := m.(map[string]any); mm != nil {
				if r, ok := mm["$ref"].(string); ok {
					mptr = ref(strings.SplitN(ptr, "#", 2)[0], r)
				}
			}
			p, r, err := s.properties(mptr)
			if err != nil {
				return nil, nil, err
			}
			for k, v := range p {
				props[k] = v
			}
			required = append(required, r...)
		}
	}
	if ps, ok := node["properties"].(map[string]any); ok {
		for name, v := range ps {
			m, _ := v.(map[string]any)
			props[name] = specProp{name: name, ptr: ptr + "/properties/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(name), node: m}
		}
	}
	if req, ok := node["required"].([]any); ok {
		for _, r := range req {
			if name, ok := r.(string); ok && !slices.Contains(required, name) {
				required = append(required, name)
			}
		}
	}
	return props, required, nil
}

// hasProps reports whether the schema s (written in file) is an object
// with properties, its own or through allOf.
func (s *specSet) hasProps(file string, node map[string]any) bool {
	if node == nil {
		return false
	}
	if _, ok := node["properties"].(map[string]any); ok {
		return true
	}
	all, _ := node["allOf"].([]any)
	for _, m := range all {
		mm, _ := m.(map[string]any)
		if r, ok := mm["$ref"].(string); ok {
			target := ref(file, r)
			tn, err := s.at(target)
			if err == nil && s.hasProps(strings.SplitN(target, "#", 2)[0], tn) {
				return true
			}
			continue
		}
		if s.hasProps(file, mm) {
			return true
		}
	}
	return false
}

// expected is what a property's Python field must be.
type expected struct {
	kind  string // str, int, float, bool, dict, any
	model string // the location of the object schema, for a model
	many  bool
}

// expect returns what the field of property p must be.
func (s *specSet) expect(p specProp) (expected, error) {
	var e expected
	ptr, node := p.ptr, p.node
	follow := func() error {
		if r, ok := node["$ref"].(string); ok {
			ptr = ref(strings.SplitN(ptr, "#", 2)[0], r)
			n, err := s.at(ptr)
			if err != nil {
				return err
			}
			node = n
		}
		return nil
	}
	if err := follow(); err != nil {
		return e, err
	}
	if node["type"] == "array" {
		e.many = true
		items, _ := node["items"].(map[string]any)
		if items == nil {
			e.kind = "any"
			return e, nil
		}
		ptr, node = ptr+"/items", items
		if err := follow(); err != nil {
			return e, err
		}
	}
	file := strings.SplitN(ptr, "#", 2)[0]
	t, _ := node["type"].(string)
	switch {
	case s.hasProps(file, node):
		e.model = ptr
	case t == "object":
		e.kind = "dict"
	case t == "string":
		e.kind = "str"
	case t == "integer":
		e.kind = "int"
	case t == "number":
		e.kind = "float"
	case t == "boolean":
		e.kind = "bool"
	case t == "":
		e.kind = "any"
	default:
		return e, fmt.Errorf("unknown type %q", t)
	}
	return e, nil
}

func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// secureServer is an o2ims with HTTPS, required client certificates and
// OIDC bearer tokens, with a client-credentials token endpoint, and the
// environment that tells tests/test_security.py about them.
type secureServer struct {
	env map[string]string
}

func newSecureServer(t *testing.T) *secureServer {
	t.Helper()
	dir := t.TempDir()
	idp := oidctest.New(t)
	pki := newPKI(t, dir)
	addr := startServer(t,
		"--tls-cert-file", pki.serverCert, "--tls-key-file", pki.serverKey, "--tls-client-ca-file", pki.caFile,
		"--oidc-jwks-url", idp.JWKSURL(), "--oidc-issuer", idp.URL, "--oidc-audience", oidctest.Audience)
	return &secureServer{env: map[string]string{
		"O2IMS_TEST_SECURE_ENDPOINT": "https://" + addr,
		"O2IMS_TEST_CA_FILE":         pki.caFile,
		"O2IMS_TEST_CLIENT_CERT":     pki.clientCert,
		"O2IMS_TEST_CLIENT_KEY":      pki.clientKey,
		"O2IMS_TEST_TOKEN_URL":       idp.TokenURL(),
		"O2IMS_TEST_CLIENT_ID":       oidctest.ClientID,
		"O2IMS_TEST_CLIENT_SECRET":   oidctest.Secret,
		"O2IMS_TEST_ISSUED_URL":      idp.URL + "/issued",
		"O2IMS_TEST_READ_TOKEN":      idp.Sign("o2ims:read", time.Hour),
		"O2IMS_TEST_NOSCOPE_TOKEN":   idp.Sign("openid", time.Hour),
		"O2IMS_TEST_EXPIRED_TOKEN":   idp.Sign("o2ims:read", -time.Hour),
	}}
}

// pki is a CA and the server and client certificates it signed, as PEM
// files.
type pki struct {
	caFile, serverCert, serverKey, clientCert, clientKey string
}

func newPKI(t *testing.T, dir string) pki {
	t.Helper()
	caKey := newKey(t)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "o2ims python test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	p := pki{caFile: filepath.Join(dir, "ca.pem")}
	writePEM(t, p.caFile, "CERTIFICATE", caDER)
	issue := func(name string, serial int64, usage x509.ExtKeyUsage, ips []net.IP, dns []string) (string, string) {
		key := newKey(t)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: name},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
			IPAddresses:  ips,
			DNSNames:     dns,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
		if err != nil {
			t.Fatal(err)
		}
		keyDER, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		certFile, keyFile := filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
		writePEM(t, certFile, "CERTIFICATE", der)
		writePEM(t, keyFile, "PRIVATE KEY", keyDER)
		return certFile, keyFile
	}
	p.serverCert, p.serverKey = issue("server", 2, x509.ExtKeyUsageServerAuth, []net.IP{net.ParseIP("127.0.0.1")}, []string{"localhost"})
	p.clientCert, p.clientKey = issue("client", 3, x509.ExtKeyUsageClientAuth, nil, nil)
	return p
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
