// Package openapi holds the OpenAPI documents of the O2 IMS APIs. They are
// the source of truth: server interfaces and models are generated from them
// (go generate), and the running server serves them under /openapi/.
package openapi

import "embed"

//go:generate go tool oapi-codegen -config common.cfg.yaml common.yaml
//go:generate go tool oapi-codegen -config inventory.cfg.yaml inventory.yaml
//go:generate go tool oapi-codegen -config inventory_v2.cfg.yaml inventory_v2.yaml
//go:generate go tool oapi-codegen -config nephoran.cfg.yaml nephoran.yaml
//go:generate go tool oapi-codegen -config monitoring.cfg.yaml monitoring.yaml
//go:generate go tool oapi-codegen -config provisioning.cfg.yaml provisioning.yaml
//go:generate go tool oapi-codegen -config artifacts.cfg.yaml artifacts.yaml

// Specs contains every OpenAPI document, by file name.
//
//go:embed *.yaml
var Specs embed.FS
