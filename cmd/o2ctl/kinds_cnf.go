package main

import (
	"context"
	"fmt"
	"iter"
	"strconv"
	"strings"

	o2 "github.com/nephoran/o2ims/pkg/client"
)

// cnfKinds returns the kinds of the CNF lifecycle API and the
// infrastructure providers.
func cnfKinds() []*kind {
	return []*kind{
		erase(&kind{
			name: "cnfpackages", singular: "cnfpackage", aliases: []string{"cnfpkg", "pkg", "pkgs"},
			title: "CNF package",
			// The package's attributes, then those of its flavours,
			// aspects and workloads, which describe lists below them.
			describeOrder: []string{"packageId", "name", "version", "contentType", "vnfdInfo", "flavours",
				"scalingAspects", "workloads", "checksum", "size", "createdAt", "extensions",
				"flavourId", "description", "replicas", "resources",
				"aspectId", "workload", "stepDelta", "maxScaleLevel", "kind"},
			columns: []column{
				col("ID", func(p o2.CNFPackage) string { return p.PackageID }),
				col("NAME", func(p o2.CNFPackage) string { return p.Name }),
				col("VERSION", func(p o2.CNFPackage) string { return p.Version }),
				col("VNFD", func(p o2.CNFPackage) string { return p.VnfdInfo.VnfdID }),
				col("TYPE", func(p o2.CNFPackage) string { return string(p.ContentType) }),
				col("FLAVOURS", func(p o2.CNFPackage) string { return flavourIDs(p.Flavours) }),
				col("CREATED", func(p o2.CNFPackage) string { return timeCell(p.CreatedAt) }),
			},
			wide: []column{
				col("ASPECTS", func(p o2.CNFPackage) string { return aspectIDs(p.ScalingAspects) }),
				col("WORKLOADS", func(p o2.CNFPackage) string { return workloadNames(p.Workloads) }),
				col("PROVIDER", func(p o2.CNFPackage) string { return p.VnfdInfo.VnfProvider }),
				col("PRODUCT", func(p o2.CNFPackage) string { return p.VnfdInfo.VnfProductName }),
				col("SIZE", func(p o2.CNFPackage) string { return strconv.FormatInt(p.Size, 10) }),
				col("CHECKSUM", func(p o2.CNFPackage) string { return p.Checksum }),
			},
		}, ops[o2.CNFPackage]{
			list: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) (*o2.Page[o2.CNFPackage], error) {
				return c.CNFPackages().List(ctx, o)
			},
			all: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) iter.Seq2[o2.CNFPackage, error] {
				return c.CNFPackages().All(ctx, o)
			},
			get: func(ctx context.Context, c *o2.Client, _, id string) (*o2.CNFPackage, error) {
				return c.CNFPackages().Get(ctx, id)
			},
			id: func(p o2.CNFPackage) string { return p.PackageID },
		}),
		erase(&kind{
			name: "cnfinstances", singular: "cnfinstance", aliases: []string{"cnf", "cnfi", "cnfs", "instances"},
			title: "CNF instance",
			describeOrder: []string{"cnfInstanceId", "vnfInstanceName", "vnfInstanceDescription", "vnfdId", "packageId",
				"flavourId", "instantiationState", "phase", "instantiatedCnfInfo", "createdAt", "extensions"},
			columns: []column{
				col("ID", func(i o2.CNFInstance) string { return i.CNFInstanceID }),
				col("NAME", func(i o2.CNFInstance) string { return i.VnfInstanceName }),
				col("VNFD", func(i o2.CNFInstance) string { return i.VnfdID }),
				col("STATE", func(i o2.CNFInstance) string { return string(i.InstantiationState) }),
				col("PHASE", func(i o2.CNFInstance) string { return string(i.Phase) }),
				col("READY", func(i o2.CNFInstance) string {
					if info := i.InstantiatedCNFInfo; info != nil {
						return fmt.Sprintf("%d/%d", info.ReadyReplicas, info.Replicas)
					}
					return ""
				}),
				col("NAMESPACE", func(i o2.CNFInstance) string { return instanceInfo(i).Namespace }),
			},
			wide: []column{
				col("PACKAGE", func(i o2.CNFInstance) string { return i.PackageID }),
				col("FLAVOUR", func(i o2.CNFInstance) string { return i.FlavourID }),
				col("DEPLOYMENT MANAGER", func(i o2.CNFInstance) string { return instanceInfo(i).DeploymentManagerID }),
				col("POOL", func(i o2.CNFInstance) string { return instanceInfo(i).ResourcePoolID }),
				col("SCALE", func(i o2.CNFInstance) string { return scaleLevels(instanceInfo(i).ScaleStatus) }),
				col("CREATED", func(i o2.CNFInstance) string { return timeCell(i.CreatedAt) }),
				col("DESCRIPTION", func(i o2.CNFInstance) string { return i.VnfInstanceDescription }),
			},
		}, ops[o2.CNFInstance]{
			list: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) (*o2.Page[o2.CNFInstance], error) {
				return c.CNFInstances().List(ctx, o)
			},
			all: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) iter.Seq2[o2.CNFInstance, error] {
				return c.CNFInstances().All(ctx, o)
			},
			get: func(ctx context.Context, c *o2.Client, _, id string) (*o2.CNFInstance, error) {
				return c.CNFInstances().Get(ctx, id)
			},
			id: func(i o2.CNFInstance) string { return i.CNFInstanceID },
		}),
		erase(&kind{
			name: "lcmopoccs", singular: "lcmopocc", aliases: []string{"op", "ops", "lcmop"},
			title: "lifecycle operation",
			describeOrder: []string{"id", "operation", "operationState", "cnfInstanceId", "startTime", "stateEnteredTime",
				"operationParams", "error"},
			columns: []column{
				col("ID", func(o o2.LcmOpOcc) string { return o.ID }),
				col("OPERATION", func(o o2.LcmOpOcc) string { return string(o.Operation) }),
				col("STATE", func(o o2.LcmOpOcc) string { return string(o.OperationState) }),
				col("INSTANCE", func(o o2.LcmOpOcc) string { return shortID(o.CNFInstanceID) }),
				col("STARTED", func(o o2.LcmOpOcc) string { return timeCell(o.StartTime) }),
				col("STATE ENTERED", func(o o2.LcmOpOcc) string { return timeCell(o.StateEnteredTime) }),
			},
			wide: []column{
				col("INSTANCE ID", func(o o2.LcmOpOcc) string { return o.CNFInstanceID }),
				col("PARAMS", func(o o2.LcmOpOcc) string { return flatMap(o.OperationParams) }),
				col("ERROR", func(o o2.LcmOpOcc) string { return o.Error.String() }),
			},
		}, ops[o2.LcmOpOcc]{
			list: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) (*o2.Page[o2.LcmOpOcc], error) {
				return c.LcmOpOccs().List(ctx, o)
			},
			all: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) iter.Seq2[o2.LcmOpOcc, error] {
				return c.LcmOpOccs().All(ctx, o)
			},
			get: func(ctx context.Context, c *o2.Client, _, id string) (*o2.LcmOpOcc, error) {
				return c.LcmOpOccs().Get(ctx, id)
			},
			id: func(o o2.LcmOpOcc) string { return o.ID },
		}),
		erase(&kind{
			name: "providers", singular: "provider", aliases: []string{"prov", "provs"},
			title:         "provider",
			describeOrder: []string{"providerId", "name", "type", "origin", "endpoint", "createdAt", "status"},
			columns: []column{
				col("ID", func(p o2.Provider) string { return p.ProviderID }),
				col("NAME", func(p o2.Provider) string { return p.Name }),
				col("TYPE", func(p o2.Provider) string { return p.Type }),
				col("ORIGIN", func(p o2.Provider) string { return string(p.Origin) }),
				col("HEALTHY", func(p o2.Provider) string {
					if p.Status == nil {
						return ""
					}
					return strconv.FormatBool(p.Status.Healthy)
				}),
				col("LAST SYNC", func(p o2.Provider) string { return timeCell(providerStatus(p).LastSync) }),
			},
			wide: []column{
				col("ENDPOINT", func(p o2.Provider) string { return p.Endpoint }),
				col("CREATED", func(p o2.Provider) string { return timeCell(p.CreatedAt) }),
				col("LAST ATTEMPT", func(p o2.Provider) string { return timeCell(providerStatus(p).LastAttempt) }),
				col("ERROR", func(p o2.Provider) string { return providerStatus(p).Error }),
			},
		}, ops[o2.Provider]{
			list: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) (*o2.Page[o2.Provider], error) {
				return c.Providers().List(ctx, o)
			},
			all: func(ctx context.Context, c *o2.Client, _ string, o o2.ListOptions) iter.Seq2[o2.Provider, error] {
				return c.Providers().All(ctx, o)
			},
			get: func(ctx context.Context, c *o2.Client, _, id string) (*o2.Provider, error) {
				return c.Providers().Get(ctx, id)
			},
			id: func(p o2.Provider) string { return p.ProviderID },
		}),
	}
}

// instanceInfo returns the InstantiatedCNFInfo of i, or a zero one while
// i is not instantiated.
func instanceInfo(i o2.CNFInstance) o2.InstantiatedCNFInfo {
	if i.InstantiatedCNFInfo == nil {
		return o2.InstantiatedCNFInfo{}
	}
	return *i.InstantiatedCNFInfo
}

// providerStatus returns the status of p, or a zero one when the answer
// left it out.
func providerStatus(p o2.Provider) o2.ProviderStatus {
	if p.Status == nil {
		return o2.ProviderStatus{}
	}
	return *p.Status
}

// flavourIDs joins the identifiers of flavours with commas.
func flavourIDs(fs []o2.Flavour) string {
	ids := make([]string, len(fs))
	for i, f := range fs {
		ids[i] = f.FlavourID
	}
	return strings.Join(ids, ",")
}

// aspectIDs renders scaling aspects as "id(0-max)", joined with commas.
func aspectIDs(as []o2.ScalingAspect) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = fmt.Sprintf("%s(0-%d)", a.AspectID, a.MaxScaleLevel)
	}
	return strings.Join(parts, ",")
}

// workloadNames renders workloads as "Kind/name", joined with commas.
func workloadNames(ws []o2.PackageWorkload) string {
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = w.Kind + "/" + w.Name
	}
	return strings.Join(parts, ",")
}

// scaleLevels renders scale levels as "aspect=level", joined with commas.
func scaleLevels(ss []o2.ScaleStatus) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = s.AspectID + "=" + strconv.Itoa(s.ScaleLevel)
	}
	return strings.Join(parts, ",")
}
