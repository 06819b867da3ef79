package lcm_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/nephoran/o2ims/internal/cnf/cnftest"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/lcm"
	"github.com/nephoran/o2ims/internal/sqlstore"
	"github.com/nephoran/o2ims/internal/sqlstore/sqlstoretest"
)

func one(n int) *int { return &n }

func pkgInput() lcm.PackageInput {
	return lcm.PackageInput{
		Name: "app", Version: "1", VnfdInfo: lcm.VnfdInfo{VnfdID: "vnfd-app"},
		Flavours:       []lcm.Flavour{{FlavourID: "small", Replicas: one(1)}},
		ScalingAspects: []lcm.ScalingAspect{{AspectID: "app", Workload: "app", StepDelta: 1, MaxScaleLevel: 2}},
	}
}

// TestPackageAndInstanceRules exercises every refusal that needs no
// cluster, on both backends, and that each accepted change is an event.
func TestPackageAndInstanceRules(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		ctx := context.Background()
		store := sqlstoretest.Open(t, b)
		svc := lcm.NewService(store, nil, nil, lcm.Options{}, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
		content := cnftest.HelmChart(t)

		bad := []struct {
			name string
			mod  func(*lcm.PackageInput)
			data []byte
			code string
		}{
			{"no name", func(p *lcm.PackageInput) { p.Name = "" }, content, ims.EINVALID},
			{"no vnfd", func(p *lcm.PackageInput) { p.VnfdInfo.VnfdID = "" }, content, ims.EINVALID},
			{"no flavour", func(p *lcm.PackageInput) { p.Flavours = nil }, content, ims.EINVALID},
			{"repeated flavour", func(p *lcm.PackageInput) { p.Flavours = append(p.Flavours, p.Flavours[0]) }, content, ims.EINVALID},
			{"unknown workload", func(p *lcm.PackageInput) { p.ScalingAspects[0].Workload = "nope" }, content, ims.EINVALID},
			{"zero step", func(p *lcm.PackageInput) { p.ScalingAspects[0].StepDelta = 0 }, content, ims.EINVALID},
			{"bad content type", func(p *lcm.PackageInput) { p.ContentType = "zip" }, content, ims.EINVALID},
			{"no content", func(*lcm.PackageInput) {}, nil, ims.EINVALID},
			{"garbage content", func(*lcm.PackageInput) {}, []byte("not a package"), ims.EINVALID},
			{"bad package id", func(p *lcm.PackageInput) { p.PackageID = "../x" }, content, ims.EINVALID},
		}
		for _, c := range bad {
			in := pkgInput()
			c.mod(&in)
			if _, err := svc.CreatePackage(ctx, in, c.data); ims.ErrorCode(err) != c.code {
				t.Errorf("%s: %v, want %s", c.name, err, c.code)
			}
		}
		in := pkgInput()
		in.PackageID = "app-1"
		pkg, err := svc.CreatePackage(ctx, in, content)
		if err != nil {
			t.Fatal(err)
		}
		if pkg.ContentType != "helm" || pkg.ScalingAspects[0].Workload != "release-name-app" || len(pkg.Checksum) != 64 {
			t.Fatalf("package %+v", pkg)
		}
		if _, err := svc.CreatePackage(ctx, in, content); ims.ErrorCode(err) != ims.ECONFLICT {
			t.Fatalf("duplicate package id: %v", err)
		}
		stored, sum, err := store.PackageContent(ctx, "app-1")
		if err != nil || !bytes.Equal(stored, content) || sum != pkg.Checksum {
			t.Fatalf("stored content differs: %v", err)
		}

		if _, err := svc.CreateInstance(ctx, lcm.InstanceInput{VnfdID: "vnfd-none"}); ims.ErrorCode(err) != ims.EUNPROCESSABLE {
			t.Errorf("unknown vnfd: %v", err)
		}
		if _, err := svc.CreateInstance(ctx, lcm.InstanceInput{VnfdID: "vnfd-app", FlavourID: "huge"}); ims.ErrorCode(err) != ims.EUNPROCESSABLE {
			t.Errorf("unknown flavour: %v", err)
		}
		inst, err := svc.CreateInstance(ctx, lcm.InstanceInput{VnfdID: "vnfd-app", VnfInstanceName: "a"})
		if err != nil || inst.InstantiationState != lcm.NotInstantiated || inst.PackageID != "app-1" {
			t.Fatalf("create instance: %+v %v", inst, err)
		}
		if err := svc.DeletePackage(ctx, "app-1"); ims.ErrorCode(err) != ims.ECONFLICT {
			t.Errorf("delete a package in use: %v", err)
		}
		if _, err := svc.Scale(ctx, inst.CnfInstanceID, lcm.ScaleInput{Type: "SCALE_OUT", AspectID: "app"}); ims.ErrorCode(err) != ims.ECONFLICT {
			t.Errorf("scale a NOT_INSTANTIATED instance: %v", err)
		}
		if _, err := svc.Scale(ctx, inst.CnfInstanceID, lcm.ScaleInput{Type: "SIDEWAYS", AspectID: "app"}); ims.ErrorCode(err) != ims.EINVALID {
			t.Errorf("bad scale type: %v", err)
		}
		if _, err := svc.Scale(ctx, inst.CnfInstanceID, lcm.ScaleInput{Type: "SCALE_OUT", AspectID: "nope"}); ims.ErrorCode(err) != ims.EUNPROCESSABLE {
			t.Errorf("unknown aspect: %v", err)
		}
		if _, err := svc.Terminate(ctx, inst.CnfInstanceID, lcm.TerminateInput{TerminationType: "NOW"}); ims.ErrorCode(err) != ims.EINVALID {
			t.Errorf("bad termination type: %v", err)
		}
		if _, err := svc.Terminate(ctx, inst.CnfInstanceID, lcm.TerminateInput{TerminationType: "FORCEFUL"}); ims.ErrorCode(err) != ims.ECONFLICT {
			t.Errorf("terminate a NOT_INSTANTIATED instance: %v", err)
		}
		if _, err := svc.Instantiate(ctx, inst.CnfInstanceID, lcm.InstantiateInput{FlavourID: "small", DeploymentManagerID: "00000000-0000-4000-8000-000000000000"}); ims.ErrorCode(err) != ims.EUNPROCESSABLE {
			t.Errorf("unknown deployment manager: %v", err)
		}
		if _, err := svc.Instantiate(ctx, inst.CnfInstanceID, lcm.InstantiateInput{FlavourID: "none", DeploymentManagerID: "x"}); ims.ErrorCode(err) != ims.EUNPROCESSABLE {
			t.Errorf("unknown flavour at instantiate: %v", err)
		}
		if _, err := svc.GetInstance(ctx, "00000000-0000-4000-8000-000000000000"); ims.ErrorCode(err) != ims.ENOTFOUND {
			t.Errorf("unknown instance: %v", err)
		}
		if err := svc.DeleteInstance(ctx, inst.CnfInstanceID); err != nil {
			t.Fatal(err)
		}
		if err := svc.DeletePackage(ctx, "app-1"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := store.PackageContent(ctx, "app-1"); ims.ErrorCode(err) != ims.ENOTFOUND {
			t.Errorf("content outlived its package: %v", err)
		}
		// Every accepted change was an inventory event: package create,
		// instance create, instance delete, package delete.
		evs, err := store.Events(ctx, sqlstore.StreamInventory, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, e := range evs {
			kinds = append(kinds, e.ObjectType)
		}
		want := []string{"cnf_packages", "cnf_instances", "cnf_instances", "cnf_packages"}
		if len(kinds) != len(want) {
			t.Fatalf("events %v, want %v", kinds, want)
		}
		for i := range want {
			if kinds[i] != want[i] {
				t.Fatalf("events %v, want %v", kinds, want)
			}
		}
	})
}
