package porch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strconv"
	"strings"

	"github.com/nephio-project/porch/api/generated/clientset/versioned"
	porchclient "github.com/nephio-project/porch/api/generated/clientset/versioned/typed/porch/v1alpha1"
	porchapi "github.com/nephio-project/porch/api/porch/v1alpha1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
)

// Defaults of Options.
const (
	DefaultBlueprintRepository  = "o2ims-packages"
	DefaultBlueprintPackage     = "o2ims-deployment-template"
	DefaultDeploymentRepository = "o2ims-deployments"
	DefaultNamespace            = "default"
)

// PackagePrefix starts the name of every deployment package:
// o2ims-<deployment>.
const PackagePrefix = "o2ims-"

// Options configures a Client. Empty fields take the defaults above.
type Options struct {
	// BlueprintRepository is the Porch Repository holding the blueprint.
	BlueprintRepository string
	// BlueprintPackage is the blueprint's package name; its latest
	// published revision is cloned.
	BlueprintPackage string
	// DeploymentRepository is the Porch Repository the deployment packages
	// are created in; a GitOps agent applies what is published there.
	DeploymentRepository string
	// AutoApprove publishes each revision Apply proposes. Without it the
	// revision waits as Proposed for an approver.
	AutoApprove bool
	// Namespace holds the Repository objects and the package revisions.
	Namespace string
}

// Request is one deployment's desired package content.
type Request struct {
	// Deployment is the O2 deployment's name: a DNS-1123 label. The package
	// is o2ims-<Deployment> and its first workspace is Deployment.
	Deployment string
	// Config is merged into the data of the package's ConfigMap
	// deployment-config: resourcePoolId (the first pool of the
	// deployment's placement), provider, region, and so on.
	Config map[string]string
	// Setters are merged into the configMap of the apply-setters function
	// of the Kptfile pipeline (for the O2 IMS blueprint: image, replicas,
	// resource-pool-id); Porch applies them to the "# kpt-set:" fields.
	Setters map[string]string
}

// Result describes the package revision holding a deployment.
type Result struct {
	// Name is the PackageRevision's metadata.name,
	// <repository>.<package>.<workspace>; the IMS records it as the
	// deployment's status.packageRevision.
	Name        string
	PackageName string
	Workspace   string
	Lifecycle   porchapi.PackageRevisionLifecycle
	// Revision is Porch's revision number, set once published (1, 2, …).
	Revision int
	// Resources are the package files as Porch rendered them, by path.
	Resources map[string]string
	// Changed reports whether this Apply created a revision, wrote values
	// or moved a lifecycle; false means the latest revision already held
	// the requested values in the lifecycle asked for.
	Changed bool
}

// RenderError reports that Porch could not render the package's Kptfile
// pipeline with the values written.
type RenderError struct {
	// PackageRevision is the revision being written.
	PackageRevision string
	// Message is Porch's account: the failing function and its output.
	Message string
}

func (e *RenderError) Error() string {
	return fmt.Sprintf("porch: rendering package revision %s failed: %s", e.PackageRevision, e.Message)
}

// Client delivers deployments through Porch.
type Client struct {
	opts   Options
	revs   porchclient.PackageRevisionInterface
	res    porchclient.PackageRevisionResourcesInterface
	logger *slog.Logger
}

// New returns a client of the Porch API served through cfg's API server.
func New(cfg *rest.Config, opts Options, logger *slog.Logger) (*Client, error) {
	cs, err := versioned.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("porch: client: %w", err)
	}
	return newClient(cs.PorchV1alpha1(), opts, logger), nil
}

func newClient(api porchclient.PorchV1alpha1Interface, opts Options, logger *slog.Logger) *Client {
	if opts.BlueprintRepository == "" {
		opts.BlueprintRepository = DefaultBlueprintRepository
	}
	if opts.BlueprintPackage == "" {
		opts.BlueprintPackage = DefaultBlueprintPackage
	}
	if opts.DeploymentRepository == "" {
		opts.DeploymentRepository = DefaultDeploymentRepository
	}
	if opts.Namespace == "" {
		opts.Namespace = DefaultNamespace
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Client{
		opts:   opts,
		revs:   api.PackageRevisions(opts.Namespace),
		res:    api.PackageRevisionResources(opts.Namespace),
		logger: logger,
	}
}

// PackageName returns the package that holds deployment.
func PackageName(deployment string) string { return PackagePrefix + deployment }

// Validate reports what is wrong with r before anything is sent to Porch.
func (r Request) Validate() error {
	var errs []error
	if r.Deployment == "" {
		errs = append(errs, errors.New("deployment name is empty"))
	} else {
		for _, msg := range validation.IsDNS1123Label(r.Deployment) {
			errs = append(errs, fmt.Errorf("deployment name %q: %s", r.Deployment, msg))
		}
		// The package name is a directory and a label of the revision's
		// name, so it is bound by the same 63 characters.
		if n := len(PackageName(r.Deployment)); n > validation.DNS1123LabelMaxLength {
			errs = append(errs, fmt.Errorf("deployment name %q: package name %s is %d characters, at most %d allowed",
				r.Deployment, PackageName(r.Deployment), n, validation.DNS1123LabelMaxLength))
		}
	}
	for k := range r.Config {
		for _, msg := range validation.IsConfigMapKey(k) {
			errs = append(errs, fmt.Errorf("config key %q: %s", k, msg))
		}
	}
	for k := range r.Setters {
		if k == "" || strings.ContainsAny(k, "${}") || strings.TrimSpace(k) != k {
			errs = append(errs, fmt.Errorf("setter name %q: must be non-empty, without spaces at the ends and without $, { or }", k))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("porch: invalid request: %w", errors.Join(errs...))
	}
	return nil
}

// Apply makes the deployment's package hold req's values and moves it to
// Proposed, and to Published with Options.AutoApprove.
//
// The first Apply clones the blueprint's latest published revision into
// package o2ims-<deployment>, workspace <deployment>. While a revision is
// not yet published, later Applies rewrite that revision. Once published,
// an Apply with the same values returns it unchanged and an Apply with other
// values creates revision n as a copy of the latest one (an edit task) in
// workspace <deployment>-<n>.
func (c *Client) Apply(ctx context.Context, req Request) (Result, error) {
	if err := req.Validate(); err != nil {
		return Result{}, err
	}
	pkg := PackageName(req.Deployment)
	revs, err := c.packageRevisions(ctx, c.opts.DeploymentRepository, pkg)
	if err != nil {
		return Result{}, err
	}

	var pr *porchapi.PackageRevision
	created := true
	if open := openRevision(revs); open != nil {
		pr, created = open, false
		c.logger.InfoContext(ctx, "porch: continuing unpublished package revision", "packageRevision", pr.Name, "lifecycle", pr.Spec.Lifecycle)
	} else if latest := latestPublished(revs); latest != nil {
		resources, err := c.resources(ctx, latest.Name)
		if err != nil {
			return Result{}, err
		}
		if _, changed, err := setValues(resources, req); err != nil {
			return Result{}, fmt.Errorf("porch: package revision %s: %w", latest.Name, err)
		} else if !changed {
			return result(latest, resources, false), nil
		}
		pr, err = c.create(ctx, &porchapi.PackageRevision{
			Spec: porchapi.PackageRevisionSpec{
				PackageName:    pkg,
				RepositoryName: c.opts.DeploymentRepository,
				WorkspaceName:  req.Deployment + "-" + strconv.Itoa(latest.Spec.Revision+1),
				Tasks: []porchapi.Task{{
					Type: porchapi.TaskTypeEdit,
					Edit: &porchapi.PackageEditTaskSpec{Source: &porchapi.PackageRevisionRef{Name: latest.Name}},
				}},
			},
		})
		if err != nil {
			return Result{}, err
		}
	} else {
		blueprint, err := c.blueprint(ctx)
		if err != nil {
			return Result{}, err
		}
		pr, err = c.create(ctx, &porchapi.PackageRevision{
			Spec: porchapi.PackageRevisionSpec{
				PackageName:    pkg,
				RepositoryName: c.opts.DeploymentRepository,
				WorkspaceName:  req.Deployment,
				Tasks: []porchapi.Task{{
					Type: porchapi.TaskTypeClone,
					Clone: &porchapi.PackageCloneTaskSpec{
						Upstream: porchapi.UpstreamPackage{UpstreamRef: &porchapi.PackageRevisionRef{Name: blueprint.Name}},
					},
				}},
			},
		})
		if err != nil {
			return Result{}, err
		}
	}

	before := pr.Spec.Lifecycle
	wrote, err := c.write(ctx, pr, req)
	if err != nil {
		return Result{}, err
	}
	if pr, err = c.setLifecycle(ctx, pr.Name, porchapi.PackageRevisionLifecycleProposed); err != nil {
		return Result{}, err
	}
	if c.opts.AutoApprove {
		if pr, err = c.approve(ctx, pr.Name); err != nil {
			return Result{}, err
		}
	}
	resources, err := c.resources(ctx, pr.Name)
	if err != nil {
		return Result{}, err
	}
	c.logger.InfoContext(ctx, "porch: deployment package revision ready", "deployment", req.Deployment,
		"packageRevision", pr.Name, "lifecycle", pr.Spec.Lifecycle, "revision", pr.Spec.Revision)
	return result(pr, resources, created || wrote || pr.Spec.Lifecycle != before), nil
}

// write puts req's values into the revision's resources, so that Porch
// re-renders the package, and reports whether anything changed. Only a
// Draft accepts new resources, so a Proposed revision is taken back first.
func (c *Client) write(ctx context.Context, pr *porchapi.PackageRevision, req Request) (bool, error) {
	prr, err := c.res.Get(ctx, pr.Name, metav1.GetOptions{})
	if err != nil {
		return false, fmt.Errorf("porch: reading resources of %s: %w", pr.Name, err)
	}
	resources, changed, err := setValues(prr.Spec.Resources, req)
	if err != nil {
		return false, fmt.Errorf("porch: package revision %s: %w", pr.Name, err)
	}
	if !changed {
		return false, nil
	}
	if pr.Spec.Lifecycle != porchapi.PackageRevisionLifecycleDraft {
		if _, err := c.setLifecycle(ctx, pr.Name, porchapi.PackageRevisionLifecycleDraft); err != nil {
			return false, err
		}
		// Taking the revision back changes nothing in its resources, but
		// it is a new version of the object.
		if prr, err = c.res.Get(ctx, pr.Name, metav1.GetOptions{}); err != nil {
			return false, fmt.Errorf("porch: reading resources of %s: %w", pr.Name, err)
		}
	}
	prr.Spec.Resources = resources
	updated, err := c.res.Update(ctx, prr, metav1.UpdateOptions{})
	if err != nil {
		// Porch answers a failed render with an error (HTTP 500) carrying
		// the renderer's message, and keeps the previous resources.
		if isRenderFailure(err) {
			return false, &RenderError{PackageRevision: pr.Name, Message: apiMessage(err)}
		}
		return false, fmt.Errorf("porch: writing resources of %s: %w", pr.Name, err)
	}
	if msg := renderFailure(updated.Status.RenderStatus); msg != "" {
		return false, &RenderError{PackageRevision: pr.Name, Message: msg}
	}
	return true, nil
}

// Delete removes the deployment's package: every revision, and with the
// revision tracking the main branch, the package's directory on main.
// Deleting a package that does not exist is not an error.
//
// Published revisions are first all proposed for deletion, as Nephio's
// workflow has it (porchctl rpkg propose-delete, then del); Porch v1.4.0
// does not enforce that step, but proposing the revision that tracks main
// after its tagged revision is gone fails there with "spec can only update
// package with lifecycle value one of Draft,Proposed".
func (c *Client) Delete(ctx context.Context, deployment string) error {
	if err := (Request{Deployment: deployment}).Validate(); err != nil {
		return err
	}
	revs, err := c.packageRevisions(ctx, c.opts.DeploymentRepository, PackageName(deployment))
	if err != nil {
		return err
	}
	for _, pr := range revs {
		if pr.Spec.Lifecycle == porchapi.PackageRevisionLifecyclePublished {
			if _, err := c.setLifecycle(ctx, pr.Name, porchapi.PackageRevisionLifecycleDeletionProposed); err != nil {
				return err
			}
		}
	}
	// Numbered revisions and drafts before the one tracking main (revision
	// -1), whose deletion commits the package's removal to main.
	var numbered, mainBranch []porchapi.PackageRevision
	for _, pr := range revs {
		if pr.Spec.Revision < 0 {
			mainBranch = append(mainBranch, pr)
		} else {
			numbered = append(numbered, pr)
		}
	}
	for _, pr := range append(numbered, mainBranch...) {
		if err := c.revs.Delete(ctx, pr.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("porch: deleting package revision %s: %w", pr.Name, err)
		}
		c.logger.InfoContext(ctx, "porch: deleted package revision", "packageRevision", pr.Name)
	}
	return nil
}

// packageRevisions lists the revisions of one package. Porch filters on
// these fields itself; the loop only guards against a server that ignores
// a selector.
func (c *Client) packageRevisions(ctx context.Context, repository, pkg string) ([]porchapi.PackageRevision, error) {
	list, err := c.revs.List(ctx, metav1.ListOptions{FieldSelector: fields.SelectorFromSet(fields.Set{
		"spec.repository":  repository,
		"spec.packageName": pkg,
	}).String()})
	if err != nil {
		return nil, fmt.Errorf("porch: listing revisions of package %s in repository %s: %w", pkg, repository, err)
	}
	var out []porchapi.PackageRevision
	for _, pr := range list.Items {
		if pr.Spec.RepositoryName == repository && pr.Spec.PackageName == pkg {
			out = append(out, pr)
		}
	}
	return out, nil
}

// blueprint returns the latest published revision of the blueprint.
func (c *Client) blueprint(ctx context.Context) (*porchapi.PackageRevision, error) {
	revs, err := c.packageRevisions(ctx, c.opts.BlueprintRepository, c.opts.BlueprintPackage)
	if err != nil {
		return nil, err
	}
	bp := latestPublished(revs)
	if bp == nil {
		return nil, fmt.Errorf("porch: blueprint package %s has no published revision in repository %s (namespace %s)",
			c.opts.BlueprintPackage, c.opts.BlueprintRepository, c.opts.Namespace)
	}
	return bp, nil
}

func (c *Client) create(ctx context.Context, pr *porchapi.PackageRevision) (*porchapi.PackageRevision, error) {
	pr.Namespace = c.opts.Namespace
	pr.Spec.Lifecycle = porchapi.PackageRevisionLifecycleDraft
	created, err := c.revs.Create(ctx, pr, metav1.CreateOptions{})
	if err != nil {
		// Creating renders the package too; a blueprint whose pipeline
		// fails cannot be cloned.
		if isRenderFailure(err) {
			return nil, &RenderError{PackageRevision: revisionName(pr), Message: apiMessage(err)}
		}
		return nil, fmt.Errorf("porch: creating package revision %s: %w", revisionName(pr), err)
	}
	c.logger.InfoContext(ctx, "porch: created package revision", "packageRevision", created.Name, "task", pr.Spec.Tasks[0].Type)
	return created, nil
}

// setLifecycle moves a Draft or Proposed revision to Draft or Proposed, and
// a Published one to DeletionProposed, with a plain Update.
func (c *Client) setLifecycle(ctx context.Context, name string, lc porchapi.PackageRevisionLifecycle) (*porchapi.PackageRevision, error) {
	var out *porchapi.PackageRevision
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		pr, err := c.revs.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if pr.Spec.Lifecycle == lc {
			out = pr
			return nil
		}
		pr.Spec.Lifecycle = lc
		out, err = c.revs.Update(ctx, pr, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("porch: setting lifecycle of %s to %s: %w", name, lc, err)
	}
	return out, nil
}

// approve publishes a Proposed revision through the approval subresource,
// the only way Porch accepts Published.
func (c *Client) approve(ctx context.Context, name string) (*porchapi.PackageRevision, error) {
	var out *porchapi.PackageRevision
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		pr, err := c.revs.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if pr.Spec.Lifecycle == porchapi.PackageRevisionLifecyclePublished {
			out = pr
			return nil
		}
		pr.Spec.Lifecycle = porchapi.PackageRevisionLifecyclePublished
		out, err = c.revs.UpdateApproval(ctx, name, pr, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("porch: approving %s: %w", name, err)
	}
	return out, nil
}

func (c *Client) resources(ctx context.Context, name string) (map[string]string, error) {
	prr, err := c.res.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("porch: reading resources of %s: %w", name, err)
	}
	return prr.Spec.Resources, nil
}

// openRevision returns the revision that is not yet published (Draft or
// Proposed), or nil. Apply never leaves more than one.
func openRevision(revs []porchapi.PackageRevision) *porchapi.PackageRevision {
	for i := range revs {
		switch revs[i].Spec.Lifecycle {
		case porchapi.PackageRevisionLifecycleDraft, porchapi.PackageRevisionLifecycleProposed:
			return &revs[i]
		}
	}
	return nil
}

// latestPublished returns the published revision with the highest number,
// or nil. The revision tracking the main branch (number -1) is a view of
// the latest one, not a revision of its own.
func latestPublished(revs []porchapi.PackageRevision) *porchapi.PackageRevision {
	var latest *porchapi.PackageRevision
	for i := range revs {
		pr := &revs[i]
		if pr.Spec.Lifecycle != porchapi.PackageRevisionLifecyclePublished || pr.Spec.Revision <= 0 {
			continue
		}
		if latest == nil || pr.Spec.Revision > latest.Spec.Revision {
			latest = pr
		}
	}
	return latest
}

func result(pr *porchapi.PackageRevision, resources map[string]string, changed bool) Result {
	return Result{
		Name:        pr.Name,
		PackageName: pr.Spec.PackageName,
		Workspace:   pr.Spec.WorkspaceName,
		Lifecycle:   pr.Spec.Lifecycle,
		Revision:    pr.Spec.Revision,
		Resources:   maps.Clone(resources),
		Changed:     changed,
	}
}

// revisionName is the name Porch gives a revision of a repository without
// a directory, for messages about revisions not yet created.
func revisionName(pr *porchapi.PackageRevision) string {
	return pr.Spec.RepositoryName + "." + pr.Spec.PackageName + "." + pr.Spec.WorkspaceName
}

// renderFailure returns the failure a RenderStatus reports, or "".
func renderFailure(rs porchapi.RenderStatus) string {
	var parts []string
	if rs.Err != "" {
		parts = append(parts, rs.Err)
	}
	for _, item := range rs.Result.Items {
		if item == nil || item.ExitCode == 0 {
			continue
		}
		msg := fmt.Sprintf("function %s exited with %d", item.Image+item.ExecPath, item.ExitCode)
		if s := strings.TrimSpace(item.Stderr); s != "" {
			msg += ": " + s
		}
		for _, r := range item.Results {
			if r.Severity == "error" {
				msg += "; " + r.Message
			}
		}
		parts = append(parts, msg)
	}
	if len(parts) == 0 && rs.Result.ExitCode != 0 {
		parts = append(parts, fmt.Sprintf("render exited with %d", rs.Result.ExitCode))
	}
	return strings.Join(parts, "; ")
}

// isRenderFailure reports whether err is Porch's answer to a Kptfile
// pipeline that failed. Porch v1.4.0 returns it as an internal error whose
// message is kpt's render error ("fn.render: … pipeline.run: func eval …").
func isRenderFailure(err error) bool {
	var se apierrors.APIStatus
	if !errors.As(err, &se) || se.Status().Code != 500 {
		return false
	}
	msg := se.Status().Message
	return strings.Contains(msg, "fn.render") || strings.Contains(msg, "pipeline.run")
}

// apiMessage returns the message of an API error without the generic
// prefix of an internal error.
func apiMessage(err error) string {
	var se apierrors.APIStatus
	if errors.As(err, &se) {
		return strings.TrimPrefix(se.Status().Message, "Internal error occurred: ")
	}
	return err.Error()
}

// Check tells whether the Porch API answers.
func (c *Client) Check(ctx context.Context) error {
	_, err := c.packageRevisions(ctx, c.opts.DeploymentRepository, PackageName("check"))
	return err
}

// DeploymentRepository is the Porch Repository deployment packages go to.
func (c *Client) DeploymentRepository() string { return c.opts.DeploymentRepository }

// Blueprint names the blueprint package as repository/package.
func (c *Client) Blueprint() string {
	return c.opts.BlueprintRepository + "/" + c.opts.BlueprintPackage
}
