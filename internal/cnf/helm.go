package cnf

import (
	"bytes"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/nephoran/o2ims/internal/ims"
)

// loadChart unpacks and loads a chart archive. Helm's loader has its own
// path checks, but it follows no size limit of ours and tolerates symbolic
// links, so every archive, subchart archives included, goes through unpack
// first and Helm only sees the validated files.
func loadChart(content []byte) (*chart.Chart, int, error) {
	if detect(content) != formatTarGz {
		return nil, 0, invalid("a Helm chart must be a gzip-compressed tar archive (.tgz)")
	}
	b := newBudget()
	files, err := chartFiles(content, b, 0)
	if err != nil {
		return nil, 0, err
	}
	buffered := make([]*loader.BufferedFile, 0, len(files))
	for _, f := range files {
		buffered = append(buffered, &loader.BufferedFile{Name: f.Name, Data: f.Data})
	}
	c, err := loader.LoadFiles(buffered)
	if err != nil {
		return nil, 0, invalid("the chart does not load: %v", err)
	}
	return c, MaxFiles - b.files, nil
}

// chartFiles unpacks a chart archive and strips its single top-level
// directory, as Helm's packager writes charts that way. Subchart archives
// (charts/*.tgz) are checked recursively against the same budget.
func chartFiles(content []byte, b *budget, depth int) ([]file, error) {
	if depth > maxNesting {
		return nil, invalid("subchart archives nest deeper than %d levels", maxNesting)
	}
	files, err := unpack(content, b)
	if err != nil {
		return nil, err
	}
	top := ""
	out := make([]file, 0, len(files))
	for _, f := range files {
		dir, rest, ok := strings.Cut(f.Name, "/")
		if !ok {
			return nil, invalid("chart archive has %q outside a top-level directory", f.Name)
		}
		if top == "" {
			top = dir
		} else if dir != top {
			return nil, invalid("chart archive has more than one top-level directory (%q and %q)", top, dir)
		}
		if path.Dir(rest) == "charts" && path.Ext(rest) == ".tgz" {
			if _, err := chartFiles(f.Data, b, depth+1); err != nil {
				return nil, invalid("subchart %s: %s", rest, ims.MessageOf(err))
			}
		}
		out = append(out, file{Name: rest, Data: f.Data})
	}
	if !hasFile(out, "Chart.yaml") {
		return nil, invalid("chart archive has no Chart.yaml in its top-level directory (it holds %s)", describeFiles(files))
	}
	return out, nil
}

func hasFile(files []file, name string) bool {
	for _, f := range files {
		if f.Name == name {
			return true
		}
	}
	return false
}

// renderHelm renders a chart with Helm's template engine alone: no cluster
// (lookup returns nothing), no release records. CRDs from crds/ directories
// come first, as Helm installs them before the templates; test hooks are
// dropped, and other hooks are kept as ordinary objects since there is no
// release lifecycle to run them in.
func renderHelm(c *chart.Chart, p RenderParams) (objs []*unstructured.Unstructured, err error) {
	defer ims.RecoverInvalid(&err, "the chart")
	vals, _ := deepCopyValues(p.Values).(map[string]any)
	if vals == nil {
		vals = map[string]any{}
	}
	if err := chartutil.ProcessDependenciesWithMerge(c, vals); err != nil {
		return nil, invalid("chart dependencies: %v", err)
	}
	opts := chartutil.ReleaseOptions{Name: p.ReleaseName, Namespace: p.Namespace, Revision: 1, IsInstall: true}
	// Helm's own schema validation resolves $ref over file:// and
	// http(s)://, which would let an uploaded chart read the server's files
	// or reach internal addresses; validateSchemas allows no external
	// references instead.
	top, err := chartutil.ToRenderValuesWithSchemaValidation(c, vals, opts, nil, true)
	if err != nil {
		return nil, invalid("chart values: %v", err)
	}
	if coalesced, ok := top["Values"].(chartutil.Values); ok {
		if err := validateSchemas(c, coalesced.AsMap()); err != nil {
			return nil, err
		}
	}
	rendered, err := new(engine.Engine).Render(c, top)
	if err != nil {
		return nil, invalid("the chart does not render: %v", err)
	}

	for _, crd := range c.CRDObjects() {
		found, err := parseManifests(crd.Filename, crd.File.Data)
		if err != nil {
			return nil, err
		}
		objs = append(objs, found...)
	}
	names := make([]string, 0, len(rendered))
	total := 0
	for name, text := range rendered {
		names = append(names, name)
		total += len(text)
	}
	// Templates can multiply their input; parsing is where a runaway
	// render would cost the most, so it stops here.
	if total > maxRenderedSize {
		return nil, invalid("the chart renders %d bytes of manifests; the limit is %d", total, maxRenderedSize)
	}
	sort.Strings(names)
	for _, name := range names {
		if path.Base(name) == "NOTES.txt" || strings.TrimSpace(rendered[name]) == "" {
			continue
		}
		found, err := parseManifests(name, []byte(rendered[name]))
		if err != nil {
			return nil, err
		}
		for _, o := range found {
			if isTestHook(o) {
				continue
			}
			objs = append(objs, o)
		}
		if len(objs) > maxObjects {
			return nil, invalid("the chart renders more than %d objects", maxObjects)
		}
	}
	return objs, nil
}

func isTestHook(o *unstructured.Unstructured) bool {
	for _, h := range strings.Split(o.GetAnnotations()["helm.sh/hook"], ",") {
		switch strings.TrimSpace(h) {
		case "test", "test-success", "test-failure":
			return true
		}
	}
	return false
}

// validateSchemas checks values against the values.schema.json of the chart
// and, for the values given to each subchart, of that subchart, as Helm
// does.
func validateSchemas(c *chart.Chart, values map[string]any) error {
	if len(c.Schema) > 0 {
		if err := validateSchema(c.Schema, values); err != nil {
			return invalid("the values do not match the schema of chart %s: %v", c.Name(), err)
		}
	}
	for _, sub := range c.Dependencies() {
		raw, ok := values[sub.Name()]
		if !ok || raw == nil {
			continue
		}
		sv, ok := raw.(map[string]any)
		if !ok {
			return invalid("the values of subchart %s are a %T, not a mapping", sub.Name(), raw)
		}
		if err := validateSchemas(sub, sv); err != nil {
			return err
		}
	}
	return nil
}

func validateSchema(schemaJSON []byte, values map[string]any) error {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return fmt.Errorf("values.schema.json is not valid JSON: %w", err)
	}
	compiler := jsonschema.NewCompiler()
	compiler.UseLoader(noLoader{})
	const loc = "mem:///values.schema.json"
	if err := compiler.AddResource(loc, doc); err != nil {
		return err
	}
	schema, err := compiler.Compile(loc)
	if err != nil {
		return fmt.Errorf("values.schema.json: %w", err)
	}
	return schema.Validate(values)
}

// noLoader refuses every external schema reference. The draft metaschemas
// are built into the validator and need no loading.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("external schema reference %q is not allowed", url)
}
