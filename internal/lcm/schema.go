// Package lcm manages CNF packages and the lifecycle of CNF instances on
// Kubernetes deployment managers: instantiate, scale and terminate as
// asynchronous operation occurrences, one at a time per instance, that
// survive a restart of the server.
package lcm

import "github.com/nephoran/o2ims/internal/query"

// The schemas name the tables the sqlstore migrations create.
var (
	PackageSchema = &query.Schema{
		Name: "cnf_packages", Object: "CNF package", DocColumn: "doc",
		Attrs: []query.Attr{
			{Name: "packageId", Type: query.String, Column: "id"},
			{Name: "name", Type: query.String, Column: "name"},
			{Name: "version", Type: query.String, Column: "version"},
			{Name: "contentType", Type: query.String},
			{Name: "vnfdInfo", Type: query.Object, Complex: true},
			{Name: "flavours", Type: query.Object, List: true, Complex: true},
			{Name: "scalingAspects", Type: query.Object, List: true, Complex: true},
			{Name: "checksum", Type: query.String},
			{Name: "size", Type: query.Number},
			{Name: "workloads", Type: query.Object, List: true, Complex: true},
			{Name: "createdAt", Type: query.Time},
			{Name: "extensions", Type: query.Object, Complex: true, ExcludedByDefault: true},
		},
	}
	InstanceSchema = &query.Schema{
		Name: "cnf_instances", Object: "CNF instance", DocColumn: "doc",
		Attrs: []query.Attr{
			{Name: "cnfInstanceId", Type: query.String, Column: "id"},
			{Name: "vnfInstanceName", Type: query.String},
			{Name: "vnfInstanceDescription", Type: query.String},
			{Name: "vnfdId", Type: query.String, Column: "vnfd_id"},
			{Name: "packageId", Type: query.String, Column: "package_id"},
			{Name: "flavourId", Type: query.String},
			{Name: "instantiationState", Type: query.String, Column: "instantiation_state"},
			{Name: "phase", Type: query.String, Column: "phase"},
			{Name: "instantiatedCnfInfo", Type: query.Object, Complex: true},
			{Name: "createdAt", Type: query.Time},
			{Name: "extensions", Type: query.Object, Complex: true, ExcludedByDefault: true},
		},
	}
	OpSchema = &query.Schema{
		Name: "lcm_op_occs", Object: "LCM operation occurrence", DocColumn: "doc",
		Attrs: []query.Attr{
			{Name: "id", Type: query.String, Column: "id"},
			{Name: "operation", Type: query.String, Column: "operation"},
			{Name: "operationState", Type: query.String, Column: "operation_state"},
			{Name: "startTime", Type: query.Time, Column: "start_time"},
			{Name: "stateEnteredTime", Type: query.Time},
			{Name: "cnfInstanceId", Type: query.String, Column: "cnf_instance_id"},
			{Name: "operationParams", Type: query.Object, Complex: true},
			{Name: "error", Type: query.Object, Complex: true},
		},
	}
)
