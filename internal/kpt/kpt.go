// Package kpt renders kpt packages in-process: a Kptfile at the package
// root, KRM YAML files, and optionally subpackages (directories with their
// own Kptfile). Render runs each Kptfile's pipeline as `kpt fn render` does,
// without containers: subpackages first, depth first, then the parent over
// its own resources and everything its subpackages produced; in each
// package the mutators in order, then the validators on copies of the
// result. Kptfiles and function configuration files are resources of the
// package too, as in kpt, so functions see and may change them.
//
// Functions are known by their image names and run as Go code built on the
// libraries the kpt function catalog uses:
//
//   - apply-setters: the catalog's own applysetters package
//     (github.com/kptdev/krm-functions-catalog/functions/go/apply-setters),
//     so every "# kpt-set:" form behaves as in the function: values inside
//     strings, several setters in one value, lists, setters whose value is
//     read back from the current field.
//   - apply-replacements: kustomize's replacement filter
//     (sigs.k8s.io/kustomize/api/filters/replacement) from kustomize/api
//     v0.21.1, configured by an ApplyReplacements object.
//   - set-namespace: the behaviour of the catalog function, written here
//     with kyaml (the catalog code needs the function SDK and kpt itself).
//   - set-labels: kustomize's label filter with kustomize's commonLabels
//     field specifications (metadata, selectors, pod and job templates).
//
// Image names may be bare ("apply-setters:v0.2.0") or carry the prefix
// gcr.io/kpt-fn/ or ghcr.io/kptdev/krm-functions-catalog/, with any tag or
// digest or none: the version is not honoured, one implementation serves
// all. Any other image, and exec functions, are refused with an error
// naming them rather than skipped.
//
// # Which apply-replacements behaviour
//
// The gcr.io/kpt-fn/apply-replacements:v0.1.1 image was built with
// kustomize/api v0.10.1, which replaces the whole target node and so
// copies the source's line comment (a "# kpt-set:" comment included) onto
// the target. Porch R5 runs the same function in-process with kustomize/api
// v0.17.2, and the current catalog function uses v0.20.1: both copy the
// scalar value only and keep the target's comments. This package matches
// those: value-only copies. A copied setter comment would make the next
// render's apply-setters overwrite the replaced value, which is never what
// a package author wants. The version is v0.21.1 because Helm v3.22, a
// dependency of this module, already requires it, so no lower version can
// be selected; it is value-only like Porch R5 but, unlike v0.17.2, also
// accepts a literal "sourceValue". Golden files under testdata pin this
// behaviour.
//
// # Differences from the catalog functions
//
// Deliberate, each for a clearer result than the function would give:
// apply-setters applies setters in name order (the function iterates a
// map), writes an empty list as "[]" (the function can write YAML that no
// longer parses) and refuses configuration values that are not strings
// (the function reads them as ""); apply-replacements refuses unknown
// fields, such as a "value" in a source, which the function ignores;
// set-namespace leaves absent service namespace fields absent; set-labels
// also updates pod affinity selectors, as kustomize does.
//
// # Trust
//
// Packages are untrusted uploads. Load bounds the file count, total size
// and YAML node count (aliases expanded) and rejects absolute or
// parent-relative paths; function configuration must come from a file of
// the package. Functions whose output could grow without bound are checked
// before they run, the node count is checked again after every function,
// and library code runs under recover. Errors are *ims.Error values: code
// EINVALID with a message that names the file or function at fault, or
// EUNAVAILABLE when the context ends a render.
//
// Not supported: .krmignore files, function results and render status in
// the Kptfile, the tag field's semantic-version ranges (any version is
// accepted) and the BFS render order annotation.
package kpt

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/nephoran/o2ims/internal/ims"
	"go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/kio/kioutil"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// Limits on a package. Real packages are far smaller; the limits bound what
// a crafted upload can cost.
const (
	// MaxFiles bounds the number of files of a package.
	MaxFiles = 1000
	// MaxSize bounds the sum of the sizes of a package's files.
	MaxSize = 20 << 20
	// MaxNodes bounds the YAML nodes of all documents of a package, aliases
	// counted at each use. Rendering may grow a package to four times this.
	MaxNodes = 1 << 20

	maxRenderNodes = 4 * MaxNodes
	// maxFunctions bounds the functions of all Kptfiles of a package: each
	// may visit every resource.
	maxFunctions = 100
	// maxPathLen bounds one file path.
	maxPathLen = 1024
)

// KptfileName is the name of the file that marks a package directory.
const KptfileName = "Kptfile"

// Annotations kpt gives meaning to.
const (
	// LocalConfigAnnotation marks a resource as an input of functions that
	// is not applied to a cluster. Any value but "false" counts, as in
	// `kpt live apply`.
	LocalConfigAnnotation = "config.kubernetes.io/local-config"
)

// Package is one kpt package as files: paths relative to the package root,
// slash-separated. A Package is not safe for concurrent use.
type Package struct {
	// resources are the KRM documents of the package's YAML files and
	// Kptfiles, in file then document order, each carrying the path and
	// index annotations of kyaml's readers so that they can be written back.
	resources []*kyaml.RNode
	// raw holds the files that are not resources, byte for byte: files
	// whose names do not match *.yaml, *.yml or Kptfile, and YAML files
	// holding only comments or empty documents.
	raw map[string][]byte
	// dirs are the package directories ("." for the root), sorted, and
	// dirSet the same as a set.
	dirs   []string
	dirSet map[string]bool
}

// Metadata describes a package from its root Kptfile.
type Metadata struct {
	Name        string
	Description string
	Labels      map[string]string
	Annotations map[string]string
}

// Resource is one rendered object.
type Resource struct {
	// Path is the file the object lives in, relative to the package root,
	// and Index its position among the file's documents, from 0.
	Path  string `json:"path"`
	Index int    `json:"index"`
	// Object holds the object as JSON-compatible values: maps, slices,
	// strings, int64, float64, bools and nil. Scalars are typed by YAML 1.2
	// (so "y" and "on" are strings), timestamps stay text.
	Object map[string]any `json:"object"`
}

// invalid returns an EINVALID error with a formatted message.
func invalid(format string, args ...any) error {
	return ims.Errorf(ims.EINVALID, format, args...)
}

// invalidCause returns an EINVALID error that keeps a library error as its
// logged cause.
func invalidCause(err error, format string, args ...any) error {
	return &ims.Error{Code: ims.EINVALID, Message: fmt.Sprintf(format, args...), Err: err}
}

// Load reads a package from its files. It requires a Kptfile at the root,
// valid YAML in every *.yaml, *.yml and Kptfile file, and KRM objects
// (apiVersion, kind and metadata.name) in every document; kustomization
// files are exempt, as in kpt. Other files are kept as they are. The
// package must stay within MaxFiles, MaxSize and MaxNodes, and its paths
// must be clean, relative and inside the package.
func Load(files map[string][]byte) (p *Package, err error) {
	defer ims.RecoverInvalid(&err, "the package")
	if len(files) > MaxFiles {
		return nil, invalid("the package has %d files; the limit is %d", len(files), MaxFiles)
	}
	names := make([]string, 0, len(files))
	size := 0
	for name, data := range files {
		if err := checkPath(name); err != nil {
			return nil, err
		}
		size += len(data)
		names = append(names, name)
	}
	if size > MaxSize {
		return nil, invalid("the package's files hold %d bytes; the limit is %d", size, MaxSize)
	}
	sort.Strings(names)
	if err := checkFileDirs(names); err != nil {
		return nil, err
	}
	if _, ok := files[KptfileName]; !ok {
		return nil, invalid("the package has no Kptfile at its root")
	}

	p = &Package{raw: map[string][]byte{}, dirSet: map[string]bool{}}
	budget := MaxNodes
	for _, name := range names {
		data := files[name]
		base := path.Base(name)
		if base == KptfileName {
			p.dirs = append(p.dirs, path.Dir(name))
			p.dirSet[path.Dir(name)] = true
		} else if !isYAMLName(base) {
			p.raw[name] = bytes.Clone(data)
			continue
		}
		nodes, err := readResources(name, data, &budget)
		if err != nil {
			return nil, err
		}
		if base == KptfileName {
			if err := checkKptfile(name, nodes); err != nil {
				return nil, err
			}
		}
		if len(nodes) == 0 {
			p.raw[name] = bytes.Clone(data)
			continue
		}
		p.resources = append(p.resources, nodes...)
	}
	sort.Strings(p.dirs)
	// Pipelines are read again at each render; reading them now reports
	// mistakes at upload.
	if _, err := p.pipelines(); err != nil {
		return nil, err
	}
	return p, nil
}

// pipelines reads the pipelines of all Kptfiles of the package.
func (p *Package) pipelines() (map[string]*pipeline, error) {
	out := make(map[string]*pipeline, len(p.dirs))
	n := 0
	ks := kptfiles(p.resources)
	for _, dir := range p.dirs {
		pl, err := p.pipelineOf(p.resources, dir, ks[dir])
		if err != nil {
			return nil, err
		}
		n += len(pl.mutators) + len(pl.validators)
		out[dir] = pl
	}
	if n > maxFunctions {
		return nil, invalid("the package's Kptfiles run %d functions; the limit is %d", n, maxFunctions)
	}
	return out, nil
}

// checkPath validates one file path of a package.
func checkPath(name string) error {
	switch {
	case name == "":
		return invalid("the package has a file with an empty path")
	case len(name) > maxPathLen:
		return invalid("the package has a file path longer than %d bytes", maxPathLen)
	case strings.ContainsRune(name, 0):
		return invalid("file path %q contains a NUL byte", name)
	case strings.ContainsRune(name, '\\'):
		return invalid("file path %q contains a backslash", name)
	case strings.HasPrefix(name, "/"):
		return invalid("file path %q is absolute", name)
	case len(name) >= 2 && name[1] == ':':
		return invalid("file path %q has a drive letter", name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return invalid("file path %q refers to a parent directory", name)
		}
	}
	if path.Clean(name) != name || name == "." {
		return invalid("file path %q is not clean (use %q)", name, path.Clean(name))
	}
	return nil
}

// checkFileDirs rejects a path that is used both as a file and as a
// directory. names must be sorted.
func checkFileDirs(names []string) error {
	set := make(map[string]bool, len(names))
	for _, n := range names {
		set[n] = true
	}
	for _, n := range names {
		for d := path.Dir(n); d != "."; d = path.Dir(d) {
			if set[d] {
				return invalid("%q is both a file and the directory of %q", d, n)
			}
		}
	}
	return nil
}

// isYAMLName tells whether kpt reads a file of this name as resources.
func isYAMLName(base string) bool {
	return strings.HasSuffix(base, ".yaml") || strings.HasSuffix(base, ".yml")
}

// readResources parses the documents of one file into annotated resources,
// as kpt's package reader does, after checking each document with a plain
// YAML decoder so that errors name the document and the right line.
func readResources(name string, data []byte, budget *int) ([]*kyaml.RNode, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	docs := 0
	for i := 1; ; i++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, invalidCause(err, "%s: document %d is not valid YAML: %s", name, i, strings.TrimPrefix(err.Error(), "yaml: "))
		}
		if len(n.Content) == 0 || kyaml.IsYNodeEmptyDoc(&n) {
			continue
		}
		if err := countNodes(&n, budget); err != nil {
			return nil, invalid("%s: %s", name, ims.MessageOf(err))
		}
		if top := n.Content[0]; top.Kind != yaml.MappingNode {
			if top.Kind == yaml.ScalarNode && top.ShortTag() == "!!null" {
				continue
			}
			return nil, invalid("%s: document %d is not a YAML mapping", name, i)
		}
		if err := checkKRM(name, i, n.Content[0]); err != nil {
			return nil, err
		}
		docs++
	}
	r := kio.ByteReader{
		Reader:            bytes.NewReader(data),
		PreserveSeqIndent: true,
		WrapBareSeqNode:   true,
		DisableUnwrapping: true,
		SetAnnotations: map[string]string{
			kioutil.PathAnnotation:       name,
			kioutil.LegacyPathAnnotation: name,
		},
	}
	nodes, err := r.Read()
	if err != nil {
		return nil, invalidCause(err, "%s is not valid YAML: its document separators could not be read", name)
	}
	if len(nodes) != docs {
		return nil, invalid("%s: its documents could not be told apart (found %d, expected %d)", name, len(nodes), docs)
	}
	return nodes, nil
}

// checkKRM checks that a document is a KRM object, as kpt requires of every
// function input. Kustomization files are exempt, as in kpt.
func checkKRM(name string, doc int, m *yaml.Node) error {
	apiVersion, kind := scalarField(m, "apiVersion"), scalarField(m, "kind")
	base := path.Base(name)
	if base == "kustomization.yaml" || base == "kustomization.yml" || base == "Kustomization" ||
		strings.HasPrefix(apiVersion, "kustomize.config.k8s.io") || (apiVersion == "" && kind == "Kustomization") {
		return nil
	}
	switch {
	case apiVersion == "":
		return invalid("%s: document %d has no apiVersion", name, doc)
	case kind == "":
		return invalid("%s: document %d has no kind", name, doc)
	}
	md := field(m, "metadata")
	if md == nil || md.Kind != yaml.MappingNode || scalarField(md, "name") == "" {
		return invalid("%s: document %d (%s) has no metadata.name", name, doc, kind)
	}
	return nil
}

// isKustomization tells whether a resource is a kustomization file, which
// kpt passes to functions but which is not an object of a cluster.
func isKustomization(rn *kyaml.RNode) bool {
	p, _, _ := kioutil.GetFileAnnotations(rn)
	base := path.Base(p)
	apiVersion := rn.GetApiVersion()
	return base == "kustomization.yaml" || base == "kustomization.yml" || base == "Kustomization" ||
		strings.HasPrefix(apiVersion, "kustomize.config.k8s.io") || (apiVersion == "" && rn.GetKind() == "Kustomization")
}

// field returns the value of a key of a mapping node, or nil.
func field(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// scalarField returns the text of a scalar field of a mapping, or "".
func scalarField(m *yaml.Node, key string) string {
	if v := field(m, key); v != nil && v.Kind == yaml.ScalarNode && v.ShortTag() != "!!null" {
		return v.Value
	}
	return ""
}

// countNodes subtracts the nodes of a tree from budget, following aliases
// at each use so that a document of nested aliases is counted at the size
// it expands to.
func countNodes(n *yaml.Node, budget *int) error {
	*budget--
	if *budget < 0 {
		return invalid("the package has more than %d YAML nodes", MaxNodes)
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return countNodes(n.Alias, budget)
	}
	for _, c := range n.Content {
		if err := countNodes(c, budget); err != nil {
			return err
		}
	}
	return nil
}

// checkKptfile checks a Kptfile's documents: exactly one Kptfile object
// with a name.
func checkKptfile(name string, nodes []*kyaml.RNode) error {
	if len(nodes) != 1 {
		return invalid("%s must hold exactly one YAML document", name)
	}
	k := nodes[0]
	if k.GetKind() != KptfileName || groupOf(k.GetApiVersion()) != "kpt.dev" {
		return invalid("%s is not a Kptfile (apiVersion %q, kind %q)", name, k.GetApiVersion(), k.GetKind())
	}
	return nil
}

// groupOf returns the API group of an apiVersion ("apps/v1" → "apps").
func groupOf(apiVersion string) string {
	if i := strings.IndexByte(apiVersion, '/'); i >= 0 {
		return apiVersion[:i]
	}
	return ""
}

// pathOf returns the file a resource belongs to. It reads the annotation
// from the node directly: it is called for every resource, often.
func pathOf(rn *kyaml.RNode) string {
	return readerAnnotation(rn, kioutil.PathAnnotation)
}

// indexOf returns a resource's position in its file.
func indexOf(rn *kyaml.RNode) int {
	n, _ := strconv.Atoi(readerAnnotation(rn, kioutil.IndexAnnotation))
	return n
}

func readerAnnotation(rn *kyaml.RNode, key string) string {
	return scalarField(field(field(rn.YNode(), "metadata"), "annotations"), key)
}

// isLocalConfig tells whether a resource is marked as local configuration.
func isLocalConfig(rn *kyaml.RNode) bool {
	v, ok := rn.GetAnnotations(LocalConfigAnnotation)[LocalConfigAnnotation]
	return ok && v != "false"
}

// isKptfile tells whether a resource is a Kptfile.
func isKptfile(rn *kyaml.RNode) bool {
	return rn.GetKind() == KptfileName && groupOf(rn.GetApiVersion()) == "kpt.dev"
}

// kptfileOf returns the Kptfile resource of a package directory.
func kptfileOf(resources []*kyaml.RNode, dir string) *kyaml.RNode {
	return kptfiles(resources)[dir]
}

// kptfiles returns the Kptfile resources of a package by directory.
func kptfiles(resources []*kyaml.RNode) map[string]*kyaml.RNode {
	out := map[string]*kyaml.RNode{}
	for _, r := range resources {
		if p := pathOf(r); path.Base(p) == KptfileName {
			out[path.Dir(p)] = r
		}
	}
	return out
}

// Metadata returns the root Kptfile's name, description, labels and
// annotations.
func (p *Package) Metadata() Metadata {
	k := kptfileOf(p.resources, ".")
	if k == nil {
		return Metadata{}
	}
	md := Metadata{Name: k.GetName(), Labels: k.GetLabels(), Annotations: k.GetAnnotations()}
	for _, a := range []string{kioutil.PathAnnotation, kioutil.LegacyPathAnnotation, kioutil.IndexAnnotation,
		kioutil.LegacyIndexAnnotation, kioutil.SeqIndentAnnotation} {
		delete(md.Annotations, a)
	}
	if d, err := k.Pipe(kyaml.Lookup("info", "description")); err == nil && d != nil {
		md.Description = kyaml.GetValue(d)
	}
	return md
}

// Files returns the package's files in their layout, resources written as
// kpt writes them: comments kept, formatting normalised by kyaml.
func (p *Package) Files() (files map[string][]byte, err error) {
	defer ims.RecoverInvalid(&err, "the package")
	files = make(map[string][]byte, len(p.raw)+len(p.resources))
	for name, data := range p.raw {
		files[name] = bytes.Clone(data)
	}
	byPath := map[string][]*kyaml.RNode{}
	for _, r := range p.resources {
		byPath[pathOf(r)] = append(byPath[pathOf(r)], r)
	}
	for name, nodes := range byPath {
		if err := kioutil.SortNodes(nodes); err != nil {
			return nil, invalidCause(err, "%s could not be written", name)
		}
		var buf bytes.Buffer
		w := kio.ByteWriter{
			Writer:           &buf,
			ClearAnnotations: []string{kioutil.PathAnnotation, kioutil.LegacyPathAnnotation},
		}
		if err := w.Write(nodes); err != nil {
			return nil, invalidCause(err, "%s could not be written", name)
		}
		files[name] = buf.Bytes()
	}
	return files, nil
}

// Resources returns the objects of the package that a cluster should get:
// every resource except Kptfiles, kustomization files and resources marked
// with LocalConfigAnnotation, in file and document order.
func (p *Package) Resources() (out []Resource, err error) {
	defer ims.RecoverInvalid(&err, "the package")
	type keyed struct {
		r     *kyaml.RNode
		path  string
		index int
	}
	sorted := make([]keyed, 0, len(p.resources))
	for _, r := range p.resources {
		if !isKptfile(r) && !isKustomization(r) && !isLocalConfig(r) {
			sorted = append(sorted, keyed{r, pathOf(r), indexOf(r)})
		}
	}
	sort.SliceStable(sorted, func(i, j int) bool {
		if sorted[i].path != sorted[j].path {
			return sorted[i].path < sorted[j].path
		}
		return sorted[i].index < sorted[j].index
	})
	budget := maxRenderNodes
	for _, k := range sorted {
		r := k.r
		c := r.Copy()
		if err := clearReaderAnnotations(c); err != nil {
			return nil, invalidCause(err, "%s could not be read", pathOf(r))
		}
		v, err := nodeValue(c.YNode(), &budget)
		if err != nil {
			return nil, invalid("%s: %s", pathOf(r), ims.MessageOf(err))
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, invalid("%s: a document is not a YAML mapping", pathOf(r))
		}
		out = append(out, Resource{Path: k.path, Index: k.index, Object: m})
	}
	return out, nil
}

// readerAnnotations are the annotations this package and kyaml's readers
// add to resources while they are processed.
var readerAnnotations = []string{
	kioutil.PathAnnotation, kioutil.LegacyPathAnnotation,
	kioutil.IndexAnnotation, kioutil.LegacyIndexAnnotation,
	kioutil.SeqIndentAnnotation, kioutil.IdAnnotation, kioutil.LegacyIdAnnotation,
}

// clearReaderAnnotations removes the reader annotations from a resource,
// and its annotations field if that leaves it empty.
func clearReaderAnnotations(rn *kyaml.RNode) error {
	for _, a := range readerAnnotations {
		if err := rn.PipeE(kyaml.ClearAnnotation(a)); err != nil {
			return err
		}
	}
	return kyaml.ClearEmptyAnnotations(rn)
}
