// Package porch delivers one O2 deployment the Nephio way: as a kpt package
// revision that Porch (Nephio R5, github.com/nephio-project/porch v1.4.0)
// clones from a blueprint, renders, proposes and publishes into a deployment
// git repository, from which a GitOps agent applies it to the cluster.
//
// # From the integration guide to the real Porch API
//
// The integration guide sketches the delivery as one PackageRevision named
// o2ims-<deployment>-v1 carrying an "apply-replacements" task and created with
// Lifecycle Proposed, after which the deployment's status.phase becomes
// DEPLOYING and status.packageRevision records the revision. No Porch release
// has that API; this is how each step maps onto Porch v1.4.0:
//
//   - Import path: the guide's github.com/GoogleContainerTools/kpt/porch/api
//     moved to github.com/nephio-project/porch/api/porch/v1alpha1 (package
//     revisions, an aggregated API in porch.kpt.dev) and .../porchconfig/v1alpha1
//     (Repository, a CRD in config.porch.kpt.dev).
//   - Name: a client cannot choose metadata.name. Porch derives it as
//     <repository>.<packageName>.<workspaceName>, so the package is identified
//     by spec.packageName o2ims-<deployment> in spec.repository
//     o2ims-deployments, and the "v1" of the guide is spec.workspaceName (the
//     deployment's name) plus spec.revision, which Porch assigns (1, 2, …) only
//     when the revision is published. Apply finds existing revisions by those
//     fields, so it is idempotent.
//   - Tasks: there is no apply-replacements task type. v1.4.0 knows init,
//     clone, patch, edit, eval and update. The first revision is created with
//     a clone task whose upstreamRef names the blueprint's latest published
//     revision in o2ims-packages; a later revision of the same package with an
//     edit task whose sourceRef names the latest published revision (the only
//     way v1.4.0 creates a new revision of a published package; it needs a
//     workspace name of its own, <deployment>-<n> for revision n).
//   - Values: instead of a literal-value replacement (the guide's Source.Value,
//     which the kustomize v0.17.2 inside Porch R5 does not have), Apply writes
//     the values into the package through PackageRevisionResources: the data
//     of the ConfigMap deployment-config and the configMap of the Kptfile's
//     apply-setters function. Porch re-renders the Kptfile pipeline on that
//     write (apply-setters through its function runner, then apply-replacements
//     in-process, which copies from deployment-config as the guide intends) and
//     reports the outcome in status.renderStatus; a failed render fails the
//     write and Apply reports it as a *RenderError.
//   - Lifecycle: a revision cannot be created Proposed when it has to be
//     edited first. It is created Draft, updated to Proposed with a plain
//     Update, and Published only through the /approval subresource
//     (UpdateApproval); a plain Update to Published is refused. Apply approves
//     only when Options.AutoApprove is set; otherwise an approver (a person or
//     a Nephio controller) publishes it. Publishing is what commits the
//     package to the deployment repository's main branch.
//   - Status: Porch has no status.phase. The IMS keeps its own phase
//     (DEPLOYING once Apply has returned) and records Result.Name in the
//     deployment's status.packageRevision.
//   - Removal: a published revision must be proposed for deletion
//     (Lifecycle DeletionProposed) before it can be deleted; drafts and
//     proposals are deleted directly. Delete does that for every revision of
//     the package, including the one that tracks the main branch, whose
//     deletion removes the package directory from main.
package porch
