package cnf

import (
	"archive/tar"
	"bytes"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/nephoran/o2ims/internal/ims"
)

func TestInspectHelm(t *testing.T) {
	info, err := Inspect(KindHelm, helmChart(t))
	if err != nil {
		t.Fatal(err)
	}
	want := Info{
		Kind: KindHelm, Name: "app", Version: "0.3.1",
		Workloads: []Workload{{Kind: "Deployment", Name: "release-name-app"}},
		Files:     6,
	}
	if !reflect.DeepEqual(info, want) {
		t.Errorf("Inspect = %+v, want %+v", info, want)
	}
}

func TestInspectKpt(t *testing.T) {
	want := Info{
		Kind: KindKpt, Name: "kapp", Version: "2.1.0",
		Workloads: []Workload{{Kind: "Deployment", Name: "kapp"}},
		Files:     4,
	}
	entries := kptEntries(t)
	var single bytes.Buffer
	for _, e := range entries {
		if strings.HasSuffix(e.Name, ".md") {
			continue
		}
		single.WriteString("---\n")
		single.Write(e.Data)
	}
	for _, tc := range []struct {
		name    string
		content []byte
		files   int
	}{
		{"tgz", tarGz(t, entries), 4},
		{"zip", zipOf(t, entries), 4},
		{"zip without top directory", zipOf(t, readDir(t, "testdata/kpt/app", "")), 4},
		{"single YAML", single.Bytes(), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info, err := Inspect(KindKpt, tc.content)
			if err != nil {
				t.Fatal(err)
			}
			w := want
			w.Files = tc.files
			if !reflect.DeepEqual(info, w) {
				t.Errorf("Inspect = %+v, want %+v", info, w)
			}
		})
	}
}

func TestInspectRejects(t *testing.T) {
	helm := helmEntries(t)
	kpt := kptEntries(t)
	huge := make([]byte, MaxContentSize+1)
	random := make([]byte, MaxContentSize+1)
	if _, err := rand.Read(random); err != nil {
		t.Fatal(err)
	}
	many := []entry{{Name: "kapp/Kptfile", Data: kpt[0].Data}}
	for i := range MaxFiles {
		many = append(many, entry{Name: fmt.Sprintf("kapp/f%d.txt", i), Data: []byte("x")})
	}
	for _, tc := range []struct {
		name    string
		kind    Kind
		content []byte
		msg     []string
	}{
		{"unknown kind", "ansible", helmChart(t), []string{"unknown package kind"}},
		{"empty", KindHelm, nil, []string{"empty"}},
		{"oversize upload", KindKpt, random, []string{"limit"}},
		{"helm not an archive", KindHelm, []byte("apiVersion: v1\nkind: ConfigMap\n"), []string{".tgz"}},
		{"helm corrupt gzip", KindHelm, []byte{0x1f, 0x8b, 8, 0, 1, 2, 3}, []string{"gzip"}},
		{"helm template error", KindHelm, tarGz(t, replace(helm, "app/templates/deployment.yaml",
			[]byte("kind: Deployment\nmetadata:\n  name: {{ .Values.nothing.here }}\n"))), []string{"does not render", "nil pointer"}},
		{"helm template fail", KindHelm, tarGz(t, replace(helm, "app/templates/service.yaml",
			[]byte(`{{ fail "the chart refuses" }}`))), []string{"the chart refuses"}},
		{"helm renders bad YAML", KindHelm, tarGz(t, replace(helm, "app/templates/service.yaml",
			[]byte("kind: Service\n metadata: [\n"))), []string{"templates/service.yaml", "not valid YAML"}},
		{"helm object without name", KindHelm, tarGz(t, replace(helm, "app/templates/service.yaml",
			[]byte("apiVersion: v1\nkind: Service\nmetadata: {}\n"))), []string{"metadata.name"}},
		{"helm without Chart.yaml", KindHelm, tarGz(t, replace(helm, "app/Chart.yaml", nil)), []string{"Chart.yaml"}},
		{"helm bad Chart.yaml", KindHelm, tarGz(t, replace(helm, "app/Chart.yaml", []byte("apiVersion: v2\nname: app\n"))), []string{"version"}},
		{"helm two top directories", KindHelm, tarGz(t, append(helm, entry{Name: "other/x.yaml", Data: []byte("a: b")})), []string{"top-level"}},
		{"helm file at root", KindHelm, tarGz(t, append(helm, entry{Name: "x.yaml", Data: []byte("a: b")})), []string{"outside"}},
		{"helm values schema", KindHelm, tarGz(t, replace(helm, "app/values.schema.json",
			[]byte(`{"type":"object","properties":{"replicaCount":{"type":"string"}}}`))), []string{"values"}},
		{"kpt without Kptfile", KindKpt, tarGz(t, replace(kpt, "kapp/Kptfile", nil)), []string{"no Kptfile"}},
		{"kpt single YAML without Kptfile", KindKpt, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"), []string{"no Kptfile"}},
		{"kpt unparsable YAML", KindKpt, tarGz(t, replace(kpt, "kapp/service.yaml", []byte("kind: Service\n  metadata: : [\n"))), []string{"service.yaml", "not valid YAML"}},
		{"kpt not a mapping", KindKpt, tarGz(t, replace(kpt, "kapp/service.yaml", []byte("- a\n- b\n"))), []string{"service.yaml", "mapping"}},
		{"kpt object without kind", KindKpt, tarGz(t, replace(kpt, "kapp/service.yaml", []byte("apiVersion: v1\nmetadata:\n  name: x\n"))), []string{"service.yaml", "kind"}},
		{"kpt object without name", KindKpt, tarGz(t, replace(kpt, "kapp/service.yaml", []byte("apiVersion: v1\nkind: Service\nmetadata:\n  labels: {}\n"))), []string{"metadata.name"}},
		{"kpt bad Kptfile", KindKpt, tarGz(t, replace(kpt, "kapp/Kptfile", []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"))), []string{"not a Kptfile"}},
		{"kpt Kptfile without name", KindKpt, tarGz(t, replace(kpt, "kapp/Kptfile", []byte("apiVersion: kpt.dev/v1\nkind: Kptfile\n"))), []string{"metadata.name"}},
		{"kpt missing configPath", KindKpt, tarGz(t, replace(kpt, "kapp/Kptfile", []byte(
			"apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: x\npipeline:\n  mutators:\n  - image: apply-setters:v0.2\n    configPath: setters.yaml\n"))), []string{"setters.yaml"}},
		{"kpt escaping configPath", KindKpt, tarGz(t, replace(kpt, "kapp/Kptfile", []byte(
			"apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: x\npipeline:\n  mutators:\n  - image: apply-setters:v0.2\n    configPath: ../../etc/passwd\n"))), []string{"parent"}},
		{"kpt list in configMap", KindKpt, tarGz(t, replace(kpt, "kapp/Kptfile", []byte(
			"apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: x\npipeline:\n  mutators:\n  - image: apply-setters:v0.2\n    configMap:\n      args: [a, b]\n"))), []string{"configMap.args must be a string"}},
		{"kpt unknown function", KindKpt, tarGz(t, replace(kpt, "kapp/Kptfile", []byte(
			"apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: x\npipeline:\n  mutators:\n  - image: gcr.io/kpt-fn/kubeval:v0.3\n"))), []string{"gcr.io/kpt-fn/kubeval:v0.3", "not supported"}},
		{"kpt no objects", KindKpt, tarGz(t, []entry{kpt[0]}), []string{"no objects"}},
		{"kpt duplicate object", KindKpt, tarGz(t, append(kpt, entry{Name: "kapp/copy.yaml", Data: kpt[len(kpt)-1].Data})), []string{"more than once"}},
		{"parent path", KindKpt, tarGz(t, append(kpt, entry{Name: "kapp/../../evil.yaml", Data: []byte("a: b")})), []string{"parent directory"}},
		{"absolute path", KindHelm, tarGz(t, append(helm, entry{Name: "/etc/cron.d/evil", Data: []byte("x")})), []string{"absolute"}},
		{"symlink", KindHelm, tarGz(t, append(helm, entry{Name: "app/templates/link.yaml", Type: tar.TypeSymlink, Linkname: "/etc/passwd"})), []string{"link"}},
		{"hard link", KindKpt, tarGz(t, append(kpt, entry{Name: "kapp/link.yaml", Type: tar.TypeLink, Linkname: "kapp/service.yaml"})), []string{"link"}},
		{"device", KindKpt, tarGz(t, append(kpt, entry{Name: "kapp/dev", Type: tar.TypeChar})), []string{"not a regular file"}},
		{"huge file", KindKpt, tarGz(t, append(kpt, entry{Name: "kapp/huge.bin", Data: huge})), []string{"size limit"}},
		{"too many files", KindKpt, tarGz(t, many), []string{"more than 1000 files"}},
		{"zip parent path", KindKpt, zipOf(t, append(kpt, entry{Name: "../evil.yaml", Data: []byte("a: b")})), []string{"parent directory"}},
		{"zip symlink", KindKpt, zipOf(t, append(kpt, entry{Name: "kapp/link", Type: tar.TypeSymlink, Linkname: "/etc/passwd"})), []string{"link"}},
		{"zip huge file", KindKpt, zipOf(t, append(kpt, entry{Name: "kapp/huge.bin", Data: huge})), []string{"size limit"}},
		{"backslash path", KindKpt, tarGz(t, append(kpt, entry{Name: `kapp\..\..\evil`, Data: []byte("x")})), []string{"backslash"}},
		{"duplicate file", KindKpt, tarGz(t, append(kpt, kpt[1])), []string{"more than once"}},
		{"subchart with symlink", KindHelm, tarGz(t, append(helm, entry{Name: "app/charts/sub.tgz", Data: tarGz(t, []entry{
			{Name: "sub/Chart.yaml", Data: []byte("apiVersion: v2\nname: sub\nversion: 1.0.0\n")},
			{Name: "sub/templates/x.yaml", Type: tar.TypeSymlink, Linkname: "/etc/shadow"},
		})})), []string{"subchart", "link"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info, err := Inspect(tc.kind, tc.content)
			if err == nil {
				t.Fatalf("Inspect accepted it: %+v", info)
			}
			wantCode(t, err, ims.EINVALID, tc.msg...)
			t.Log(ims.ErrorMessage(err))
		})
	}
}

// TestInspectSubchart checks that a chart with a subchart archive loads and
// renders the subchart's templates too.
func TestInspectSubchart(t *testing.T) {
	sub := tarGz(t, []entry{
		{Name: "db/Chart.yaml", Data: []byte("apiVersion: v2\nname: db\nversion: 1.0.0\n")},
		{Name: "db/values.yaml", Data: []byte("replicas: 2\n")},
		{Name: "db/templates/sts.yaml", Data: []byte(`apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ .Release.Name }}-db
spec:
  replicas: {{ .Values.replicas }}
  serviceName: db
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
        - name: db
          image: registry.invalid/db:1
`)},
	})
	content := tarGz(t, append(helmEntries(t), entry{Name: "app/charts/db-1.0.0.tgz", Data: sub}))
	info, err := Inspect(KindHelm, content)
	if err != nil {
		t.Fatal(err)
	}
	// Rendered files come in name order: app/charts/... before app/templates/....
	want := []Workload{{Kind: "StatefulSet", Name: "release-name-db"}, {Kind: "Deployment", Name: "release-name-app"}}
	if !reflect.DeepEqual(info.Workloads, want) {
		t.Errorf("workloads = %+v, want %+v", info.Workloads, want)
	}
}

// FuzzInspect feeds arbitrary bytes to Inspect, which must answer with a
// value or an EINVALID error and never panic.
func FuzzInspect(f *testing.F) {
	f.Add([]byte("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: x\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a # kpt-set: ${name}\n"))
	f.Add([]byte{0x1f, 0x8b})
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, k := range []Kind{KindHelm, KindKpt} {
			if _, err := Inspect(k, data); err != nil && ims.ErrorCode(err) != ims.EINVALID {
				t.Fatalf("Inspect(%s) error %v is not EINVALID", k, err)
			}
		}
	})
}

// TestInspectSchemaRefs checks that a values schema can neither read the
// server's files nor make it send requests through $ref, and that a schema
// without references still validates values.
func TestInspectSchemaRefs(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits++
		_, _ = w.Write([]byte(`{"type":"object"}`))
	}))
	defer srv.Close()
	helm := helmEntries(t)
	for _, ref := range []string{"file:///etc/hostname", srv.URL + "/schema.json"} {
		schema := fmt.Sprintf(`{"$ref": %q}`, ref)
		_, err := Inspect(KindHelm, tarGz(t, replace(helm, "app/values.schema.json", []byte(schema))))
		wantCode(t, err, ims.EINVALID, "not allowed")
	}
	if hits != 0 {
		t.Errorf("the schema made %d HTTP requests", hits)
	}
	good := `{"$schema": "https://json-schema.org/draft-07/schema#", "type": "object",
		"properties": {"replicaCount": {"type": "integer", "minimum": 0}}, "required": ["image"]}`
	content := tarGz(t, replace(helm, "app/values.schema.json", []byte(good)))
	if _, err := Inspect(KindHelm, content); err != nil {
		t.Fatal(err)
	}
	p := baseParams()
	p.Values = map[string]any{"replicaCount": -1}
	_, err := Render(t.Context(), KindHelm, content, p)
	wantCode(t, err, ims.EINVALID, "schema", "replicaCount")
}
