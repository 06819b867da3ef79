package cnf

import (
	"context"

	"github.com/nephoran/o2ims/internal/ims"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Placeholders of the render Inspect performs.
const (
	inspectRelease   = "release-name"
	inspectNamespace = "default"
	inspectInstance  = "inspect"
)

// Inspect validates a package at upload and describes it. A Helm chart must
// load and render with its default values; a kpt package must have a
// Kptfile and manifests that parse into objects with apiVersion, kind and
// metadata.name. Content is limited to MaxContentSize bytes and MaxFiles
// files, and archives must not hold absolute or parent-relative paths,
// links or special files. Every rejection is an *ims.Error with code
// EINVALID whose message says what is wrong.
func Inspect(kind Kind, content []byte) (info Info, err error) {
	defer ims.RecoverInvalid(&err, "the package")
	if err := checkSize(content); err != nil {
		return Info{}, err
	}
	p := RenderParams{InstanceID: inspectInstance, Namespace: inspectNamespace}
	var objs []*unstructured.Unstructured
	switch kind {
	case KindHelm:
		c, files, err := loadChart(content)
		if err != nil {
			return Info{}, err
		}
		p.ReleaseName = inspectRelease
		if objs, err = renderHelm(c, p); err != nil {
			return Info{}, err
		}
		info = Info{Kind: kind, Name: c.Metadata.Name, Version: c.Metadata.Version, Files: files}
	case KindKpt:
		pkg, err := loadKpt(content)
		if err != nil {
			return Info{}, err
		}
		// The Kptfile's own setter values are the defaults; no release
		// name overrides its "name" setter here.
		if objs, err = renderKpt(context.Background(), pkg, p); err != nil {
			return Info{}, err
		}
		info = Info{Kind: kind, Name: pkg.name, Version: pkg.version, Files: pkg.files}
	default:
		return Info{}, invalid("unknown package kind %q (want %q or %q)", kind, KindHelm, KindKpt)
	}
	if len(objs) == 0 {
		return Info{}, invalid("the package renders no objects")
	}
	if err := decorate(objs, p); err != nil {
		return Info{}, err
	}
	info.Workloads = workloads(objs)
	return info, nil
}

// Render produces the objects of one CNF instance: the package rendered with
// p.Values (Helm values, or kpt setters), every namespaced object placed in
// p.Namespace, the instance label on every object and pod template, and the
// pool, replica and resource overrides of p applied. It needs no cluster.
// Errors are *ims.Error with code EINVALID.
//
// Rendering is CPU-bound and cannot be interrupted inside Helm's template
// engine; when ctx ends first Render returns ctx's error at once and the
// abandoned render finishes in the background, bounded by the package
// limits.
func Render(ctx context.Context, kind Kind, content []byte, p RenderParams) ([]*unstructured.Unstructured, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := validateParams(p); err != nil {
		return nil, err
	}
	if err := checkSize(content); err != nil {
		return nil, err
	}
	if kind == KindHelm && p.ReleaseName == "" {
		return nil, invalid("a release name is required to render a Helm chart")
	}
	type result struct {
		objs []*unstructured.Unstructured
		err  error
	}
	done := make(chan result, 1)
	go func() {
		objs, err := render(ctx, kind, content, p)
		done <- result{objs, err}
	}()
	select {
	case r := <-done:
		return r.objs, r.err
	case <-ctx.Done():
		return nil, &ims.Error{Code: ims.EUNAVAILABLE, Message: "rendering the package was interrupted", Err: ctx.Err()}
	}
}

func render(ctx context.Context, kind Kind, content []byte, p RenderParams) (objs []*unstructured.Unstructured, err error) {
	defer ims.RecoverInvalid(&err, "the package")
	switch kind {
	case KindHelm:
		c, _, err := loadChart(content)
		if err != nil {
			return nil, err
		}
		if objs, err = renderHelm(c, p); err != nil {
			return nil, err
		}
	case KindKpt:
		pkg, err := loadKpt(content)
		if err != nil {
			return nil, err
		}
		if objs, err = renderKpt(ctx, pkg, p); err != nil {
			return nil, err
		}
	default:
		return nil, invalid("unknown package kind %q (want %q or %q)", kind, KindHelm, KindKpt)
	}
	if err := decorate(objs, p); err != nil {
		return nil, err
	}
	return objs, nil
}
