package cnf

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/nephoran/o2ims/internal/kpt"
	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// kptPackage is an uploaded kpt package, loaded by package kpt.
type kptPackage struct {
	pkg           *kpt.Package
	name, version string
	// files is the number of regular files of the upload.
	files int
}

// loadKpt reads a kpt package from a .tgz or .zip archive or from a single
// multi-document YAML that includes the Kptfile as one of its documents. In
// an archive the shallowest Kptfile marks the package root; files outside
// that directory are ignored, and deeper Kptfiles are subpackages.
func loadKpt(content []byte) (*kptPackage, error) {
	var files map[string][]byte
	count := 1
	if detect(content) == formatYAML {
		var err error
		if files, err = splitKptYAML(content); err != nil {
			return nil, err
		}
	} else {
		unpacked, err := unpack(content, newBudget())
		if err != nil {
			return nil, err
		}
		count = len(unpacked)
		if files, err = kptFiles(unpacked); err != nil {
			return nil, err
		}
	}
	pkg, err := kpt.Load(files)
	if err != nil {
		return nil, err
	}
	md := pkg.Metadata()
	if md.Name == "" {
		return nil, invalid("the Kptfile has no metadata.name")
	}
	version := md.Annotations["app.kubernetes.io/version"]
	if version == "" {
		version = md.Labels["app.kubernetes.io/version"]
	}
	return &kptPackage{pkg: pkg, name: md.Name, version: version, files: count}, nil
}

// kptFiles returns the files of the package root of an archive, with paths
// relative to it.
func kptFiles(files []file) (map[string][]byte, error) {
	root, rootKptfile := "", ""
	for _, f := range files {
		if path.Base(f.Name) != kpt.KptfileName {
			continue
		}
		dir := path.Dir(f.Name)
		switch {
		case rootKptfile == "" || depth(dir) < depth(root):
			root, rootKptfile = dir, f.Name
		case depth(dir) == depth(root):
			return nil, invalid("the package has two top-level Kptfiles (%s and %s)", rootKptfile, f.Name)
		}
	}
	if rootKptfile == "" {
		return nil, invalid("the package has no Kptfile (it holds %s)", describeFiles(files))
	}
	out := make(map[string][]byte, len(files))
	for _, f := range files {
		name := f.Name
		if root != "." {
			var ok bool
			if name, ok = strings.CutPrefix(name, root+"/"); !ok {
				continue // outside the package
			}
		}
		out[name] = f.Data
	}
	return out, nil
}

func depth(dir string) int {
	if dir == "." {
		return 0
	}
	return strings.Count(dir, "/") + 1
}

// splitKptYAML turns a single multi-document YAML into package files: the
// Kptfile document as Kptfile, the others, as written, as package.yaml.
func splitKptYAML(content []byte) (map[string][]byte, error) {
	const source = "package.yaml"
	var kptfile []byte
	var rest bytes.Buffer
	for i, doc := range splitDocuments(content) {
		var head struct {
			APIVersion string `yaml:"apiVersion"`
			Kind       string `yaml:"kind"`
		}
		dec := yaml.NewDecoder(bytes.NewReader(doc))
		var n yaml.Node
		if err := dec.Decode(&n); err != nil && !errors.Is(err, io.EOF) {
			return nil, invalid("%s: document %d is not valid YAML: %s", source, i+1, strings.TrimPrefix(err.Error(), "yaml: "))
		}
		if len(n.Content) > 0 && n.Content[0].Kind == yaml.MappingNode {
			_ = n.Decode(&head)
		}
		if head.Kind == kpt.KptfileName && groupOf(head.APIVersion) == "kpt.dev" {
			if kptfile != nil {
				return nil, invalid("%s holds more than one Kptfile", source)
			}
			kptfile = doc
			continue
		}
		rest.Write(doc)
	}
	if kptfile == nil {
		return nil, invalid("the package has no Kptfile: the YAML must include a document of kind Kptfile (apiVersion kpt.dev/v1)")
	}
	files := map[string][]byte{kpt.KptfileName: kptfile}
	if len(bytes.TrimSpace(rest.Bytes())) > 0 {
		files[source] = rest.Bytes()
	}
	return files, nil
}

// splitDocuments splits a YAML stream at its "---" lines, each document
// keeping its separator line so that the documents can be joined again.
func splitDocuments(content []byte) [][]byte {
	var docs [][]byte
	start := 0
	for i := 0; i < len(content); {
		end := bytes.IndexByte(content[i:], '\n')
		line := content[i:]
		next := len(content)
		if end >= 0 {
			line, next = content[i:i+end], i+end+1
		}
		if i > start && isSeparator(line) {
			docs = append(docs, content[start:i])
			start = i
		}
		i = next
	}
	return append(docs, content[start:])
}

func isSeparator(line []byte) bool {
	rest, ok := bytes.CutPrefix(bytes.TrimRight(line, "\r"), []byte("---"))
	return ok && (len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t')
}

// renderKpt renders a kpt package with the setters of p and returns its
// objects: the package's apply-setters configuration gets RenderParams.
// Values, and the release name as the "name" setter, then the Kptfile
// pipelines run. Resources marked as local configuration, Kptfiles and
// kustomization files are not objects.
func renderKpt(ctx context.Context, pkg *kptPackage, p RenderParams) ([]*unstructured.Unstructured, error) {
	setters := make(map[string]string, len(p.Values)+1)
	if p.ReleaseName != "" {
		setters["name"] = p.ReleaseName
	}
	for k, v := range p.Values {
		s, err := setterString(v)
		if err != nil {
			return nil, invalid("setter %q: %v", k, err)
		}
		setters[k] = s
	}
	if err := pkg.pkg.SetSetters(setters); err != nil {
		return nil, err
	}
	if err := pkg.pkg.Render(ctx); err != nil {
		return nil, err
	}
	resources, err := pkg.pkg.Resources()
	if err != nil {
		return nil, err
	}
	var objs []*unstructured.Unstructured
	for _, r := range resources {
		found, err := toObjects(r.Path, r.Index+1, r.Object)
		if err != nil {
			return nil, err
		}
		objs = append(objs, found...)
		if len(objs) > maxObjects {
			return nil, invalid("the package has more than %d objects", maxObjects)
		}
	}
	return objs, nil
}

// setterString converts a value from RenderParams.Values into the string
// form setters use: scalars as written in YAML, lists as YAML flow
// sequences ("[a, b]"), other values as JSON.
func setterString(v any) (string, error) {
	switch t := v.(type) {
	case nil:
		return "", nil
	case string:
		return t, nil
	case bool:
		return strconv.FormatBool(t), nil
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), nil
	case float32:
		return strconv.FormatFloat(float64(t), 'f', -1, 32), nil
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, json.Number:
		return fmt.Sprint(t), nil
	case []any:
		items := make([]string, 0, len(t))
		for _, x := range t {
			s, err := setterString(x)
			if err != nil {
				return "", err
			}
			b, err := json.Marshal(s) // quoted, so commas and brackets survive
			if err != nil {
				return "", err
			}
			items = append(items, string(b))
		}
		return "[" + strings.Join(items, ", ") + "]", nil
	case []string:
		items := make([]any, len(t))
		for i, s := range t {
			items[i] = s
		}
		return setterString(items)
	default:
		b, err := json.Marshal(t)
		if err != nil {
			return "", errors.New("the value has no string form")
		}
		return string(b), nil
	}
}
