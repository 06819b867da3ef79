package kpt

import (
	"context"
	"errors"

	"github.com/nephoran/o2ims/internal/ims"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// Render runs the pipelines of the package and its subpackages, as
// `kpt fn render` does: each subpackage first, depth first and in path
// order, then the package itself over its own resources followed by all
// that its subpackages produced. A package runs its mutators in order, each
// over the resources its selectors pick and its exclude list leaves, then
// its validators over copies, so that they cannot change anything.
// Pipelines are read from the Kptfiles as they are when Render starts.
//
// Render changes the package only when every function succeeds. It checks
// ctx between functions.
func (p *Package) Render(ctx context.Context) (err error) {
	defer ims.RecoverInvalid(&err, "the package")
	pipelines, err := p.pipelines()
	if err != nil {
		return err
	}
	// Functions change resources in place; work on copies so that a
	// failed render leaves the package as it was.
	work := make([]*kyaml.RNode, len(p.resources))
	for i, r := range p.resources {
		work[i] = r.Copy()
	}
	r := &renderer{ctx: ctx, p: p, pipelines: pipelines, local: map[string][]*kyaml.RNode{}}
	for _, res := range work {
		dir := p.owner(pathOf(res))
		r.local[dir] = append(r.local[dir], res)
	}
	out, err := r.hydrate(".")
	if err != nil {
		return err
	}
	p.resources = out
	return nil
}

// renderer holds the state of one Render.
type renderer struct {
	ctx       context.Context
	p         *Package
	pipelines map[string]*pipeline
	// local holds the resources of each package directory, in file order,
	// as decided before any function runs.
	local map[string][]*kyaml.RNode
}

// hydrate renders the package in dir and returns its resources and those
// of its subpackages.
func (r *renderer) hydrate(dir string) ([]*kyaml.RNode, error) {
	input := append([]*kyaml.RNode(nil), r.local[dir]...)
	for _, sub := range r.p.dirs {
		if sub == "." || r.parent(sub) != dir {
			continue
		}
		out, err := r.hydrate(sub)
		if err != nil {
			return nil, err
		}
		input = append(input, out...)
	}
	return r.run(dir, input)
}

// parent returns the package directory that contains the subpackage in dir.
func (r *renderer) parent(dir string) string {
	return r.p.owner(dir)
}

// run runs the pipeline of the package in dir over input.
func (r *renderer) run(dir string, input []*kyaml.RNode) ([]*kyaml.RNode, error) {
	pl := r.pipelines[dir]
	for _, f := range pl.mutators {
		if err := r.ctx.Err(); err != nil {
			return nil, &ims.Error{Code: ims.EUNAVAILABLE, Message: "rendering the package was interrupted", Err: err}
		}
		cfg, err := r.config(dir, f, input)
		if err != nil {
			return nil, err
		}
		selected := selectInput(input, f)
		out, err := call(f, cfg, selected)
		if err != nil {
			return nil, err
		}
		if len(f.selectors) > 0 || len(f.exclude) > 0 {
			input = mergeOutput(out, selected, input)
		} else {
			input = out
		}
		if err := checkRendered(input); err != nil {
			return nil, invalid("%s: %s", f.where(), ims.MessageOf(err))
		}
	}
	for _, f := range pl.validators {
		if err := r.ctx.Err(); err != nil {
			return nil, &ims.Error{Code: ims.EUNAVAILABLE, Message: "rendering the package was interrupted", Err: err}
		}
		cfg, err := r.config(dir, f, input)
		if err != nil {
			return nil, err
		}
		if cfg != nil {
			cfg = cfg.Copy()
		}
		selected := selectInput(input, f)
		copies := make([]*kyaml.RNode, len(selected))
		for i, s := range selected {
			copies[i] = s.Copy()
		}
		if _, err := call(f, cfg, copies); err != nil {
			return nil, err
		}
	}
	return input, nil
}

// config returns the configuration of a function: its inline configMap as
// a ConfigMap, or its configPath resource as it is now, after the functions
// before it, as kpt does.
func (r *renderer) config(dir string, f *function, input []*kyaml.RNode) (*kyaml.RNode, error) {
	switch {
	case f.configPath != "":
		res, err := r.p.configResource(input, dir, f.configPath)
		if err != nil {
			return nil, invalid("%s: configPath: %s", f.where(), ims.MessageOf(err))
		}
		return res, nil
	case f.hasConfig:
		return configMapResource(f.configMap), nil
	}
	return nil, nil
}

// selectInput returns the resources a function runs on: those matching
// any of its selectors (all when there are none) and none of its exclude
// entries. An empty exclude entry excludes nothing, as in kpt.
func selectInput(input []*kyaml.RNode, f *function) []*kyaml.RNode {
	if len(f.selectors) == 0 && len(f.exclude) == 0 {
		return input
	}
	var out []*kyaml.RNode
	for _, res := range input {
		picked := len(f.selectors) == 0
		for _, s := range f.selectors {
			if s.matches(res) {
				picked = true
				break
			}
		}
		for _, s := range f.exclude {
			if picked && !s.isEmpty() && s.matches(res) {
				picked = false
			}
		}
		if picked {
			out = append(out, res)
		}
	}
	return out
}

// mergeOutput puts a function's output over its selected input: resources
// it was not given stay, selected ones it kept stay in place, selected ones
// it dropped go, and new ones are appended.
func mergeOutput(output, selected, input []*kyaml.RNode) []*kyaml.RNode {
	inOutput := make(map[*kyaml.RNode]bool, len(output))
	for _, o := range output {
		inOutput[o] = true
	}
	wasSelected := make(map[*kyaml.RNode]bool, len(selected))
	for _, s := range selected {
		wasSelected[s] = true
	}
	var result []*kyaml.RNode
	for _, res := range input {
		if !wasSelected[res] || inOutput[res] {
			result = append(result, res)
		}
	}
	for _, o := range output {
		if !wasSelected[o] {
			result = append(result, o)
		}
	}
	return result
}

// call runs one function, turning its errors and panics into errors that
// name it.
func call(f *function, cfg *kyaml.RNode, nodes []*kyaml.RNode) (out []*kyaml.RNode, err error) {
	defer ims.RecoverInvalid(&err, f.where())
	out, err = f.impl(cfg, nodes)
	if err != nil {
		var e *ims.Error
		if errors.As(err, &e) {
			return nil, &ims.Error{Code: e.Code, Message: f.where() + ": " + e.Message, Err: e.Err}
		}
		return nil, invalidCause(err, "%s failed", f.where())
	}
	return out, nil
}

// checkRendered bounds the size a render may grow the package to.
func checkRendered(resources []*kyaml.RNode) error {
	budget := maxRenderNodes
	for _, res := range resources {
		if err := countNodes(res.YNode(), &budget); err != nil {
			return invalid("the rendered package has more than %d YAML nodes", maxRenderNodes)
		}
	}
	return nil
}
