package local

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"testing"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/provider/local/localtest"
)

const fixtureMachineID = "5f0c7e2a9b1d4e6f8a3c2b1d0e9f8a7b"

// newFixture is the test machine (localtest.Machine).
func newFixture(t *testing.T) string {
	t.Helper()
	return localtest.Machine(t)
}

func fixtureOptions(root string) Options {
	return Options{
		ProcRoot: filepath.Join(root, "proc"),
		SysRoot:  filepath.Join(root, "sys"),
		EtcRoot:  filepath.Join(root, "etc"),
		Hostname: func() (string, error) { return "edge-01", nil },
	}
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func discover(t *testing.T, opts Options) ims.Snapshot {
	t.Helper()
	snap, err := New(opts, testLogger(t)).Discover(context.Background())
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	return snap
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func resourceByID(snap ims.Snapshot, id string) (ims.Resource, bool) {
	for _, r := range snap.Resources {
		if r.ResourceID == id {
			return r, true
		}
	}
	return ims.Resource{}, false
}

func resourcesTagged(snap ims.Snapshot, tag string) []ims.Resource {
	var out []ims.Resource
	for _, r := range snap.Resources {
		if slices.Contains(r.Tags, tag) {
			out = append(out, r)
		}
	}
	return out
}

func typeByID(snap ims.Snapshot, id string) (ims.ResourceType, bool) {
	for _, rt := range snap.ResourceTypes {
		if rt.ResourceTypeID == id {
			return rt, true
		}
	}
	return ims.ResourceType{}, false
}

// mustResource returns the resource whose id derives from key on the fixture machine.
func mustResource(t *testing.T, snap ims.Snapshot, key string) ims.Resource {
	t.Helper()
	id := newIDMinter("machine-id:" + fixtureMachineID).id(key)
	r, ok := resourceByID(snap, id)
	if !ok {
		t.Fatalf("no resource with key %q (id %s)", key, id)
	}
	return r
}

func checkExt(t *testing.T, r ims.Resource, want ims.Extensions) {
	t.Helper()
	for k, v := range want {
		if got, ok := r.Extensions[k]; !ok || !reflect.DeepEqual(got, v) {
			t.Errorf("%s: extension %s = %#v (present %v), want %#v", r.Description, k, got, ok, v)
		}
	}
}

func checkNoExt(t *testing.T, r ims.Resource, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if v, ok := r.Extensions[k]; ok {
			t.Errorf("%s: extension %s = %#v, want it absent", r.Description, k, v)
		}
	}
}

func TestDiscoverFixture(t *testing.T) {
	root := newFixture(t)
	opts := fixtureOptions(root)
	opts.GlobalLocationID = "geo:52.52,13.40"
	opts.ServiceURI = "ssh://edge-01"
	snap := discover(t, opts)

	ids := newIDMinter("machine-id:" + fixtureMachineID)
	poolID, hostID := ids.id("pool"), ids.id("host")
	// Literal ids guard the derivation scheme itself: changing it would
	// re-identify every object of every deployed host.
	if hostID != "5b7cb00c-ebec-50cf-a97c-1afdbde1d744" {
		t.Errorf("host id = %s; the id scheme changed", hostID)
	}

	if len(snap.ResourcePools) != 1 {
		t.Fatalf("pools = %d, want 1", len(snap.ResourcePools))
	}
	pool := snap.ResourcePools[0]
	siteID := ids.id("site")
	wantPool := ims.ResourcePool{
		ResourcePoolID: poolID,
		Name:           "edge-01-site",
		Description:    pool.Description,
		OCloudSiteID:   siteID,
		Extensions: ims.Extensions{"provider": "local", "providerName": "local", "hostname": "edge-01",
			// The fixture's two threads and 16318412 KiB of memory.
			"capacity": map[string]any{
				"allocatable": map[string]any{"cpuMillicores": int64(2000), "memoryBytes": int64(16318412 * 1024), "pods": int64(110)},
				"requested":   map[string]any{"cpuMillicores": int64(0), "memoryBytes": int64(0), "pods": int64(0)},
			},
		},
	}
	if !reflect.DeepEqual(pool, wantPool) {
		t.Errorf("pool = %+v, want %+v", pool, wantPool)
	}
	wantSite := []ims.OCloudSite{{
		OCloudSiteID: siteID, GlobalLocationID: "geo:52.52,13.40", Name: "edge-01-site", Description: "Site of host edge-01",
		Extensions: ims.Extensions{"provider": "local", "providerName": "local"},
	}}
	if !reflect.DeepEqual(snap.Sites, wantSite) {
		t.Errorf("sites = %+v, want %+v", snap.Sites, wantSite)
	}

	host := mustResource(t, snap, "host")
	if host.GlobalAssetID != "ABC1234" || host.ParentID != "" || host.ResourcePoolID != poolID {
		t.Errorf("host = %+v", host)
	}
	checkExt(t, host, ims.Extensions{
		"provider":                   "local",
		"providerName":               "local",
		"hostname":                   "edge-01",
		"os":                         "Fixture Linux 12 (test)",
		"kernel":                     "6.1.0-18-amd64",
		"architecture":               runtime.GOARCH,
		"virtualized":                false,
		"uptimeSeconds":              int64(12345),
		"skippedVirtualInterfaces":   1,
		"skippedVirtualBlockDevices": 1,
		"adminState":                 "UNLOCKED",
		"operationalState":           "ENABLED",
		"powerState":                 "ON",
		"cpu": map[string]any{
			"vendor": "GenuineIntel", "model": "Intel(R) Xeon(R) Gold 6338N CPU @ 2.20GHz",
			"sockets": 1, "cores": 1, "threads": 2, "mhz": 3400.0,
		},
		"memory": map[string]any{"totalBytes": int64(16318412 * 1024), "availableBytes": int64(12000000 * 1024)},
	})

	cpu := mustResource(t, snap, "cpu/0")
	checkExt(t, cpu, ims.Extensions{
		"cores": 1, "threads": 2, "mhz": 3400.0, "flagsCount": 9, "cacheSize": "49152 KB", "vendor": "GenuineIntel",
	})
	mem := mustResource(t, snap, "memory")
	checkExt(t, mem, ims.Extensions{
		"totalBytes": int64(16318412 * 1024), "hugePagesTotal": int64(4), "hugePageSizeBytes": int64(1 << 30),
	})

	nvme := mustResource(t, snap, "disk/S5GXNF0R123456")
	if nvme.GlobalAssetID != "S5GXNF0R123456" {
		t.Errorf("nvme globalAssetId = %q", nvme.GlobalAssetID)
	}
	checkExt(t, nvme, ims.Extensions{
		"name": "nvme0n1", "sizeBytes": int64(1953525168 * 512), "rotational": false, "removable": false,
		"model": "Samsung SSD 980 PRO 1TB", "serial": "S5GXNF0R123456", "firmware": "5B2QGXA7",
	})
	checkNoExt(t, nvme, "vendor", "driver")
	sda := mustResource(t, snap, "disk/naa.5000c500a1b2c3d4")
	checkExt(t, sda, ims.Extensions{
		"name": "sda", "sizeBytes": int64(7814037168 * 512), "rotational": true,
		"vendor": "ATA", "model": "ST4000NM0035-1V4", "driver": "sd", "wwid": "naa.5000c500a1b2c3d4",
	})
	if got := resourcesTagged(snap, "disk"); len(got) != 2 {
		t.Errorf("disks = %d, want 2 (loop0 skipped)", len(got))
	}

	eno1 := mustResource(t, snap, "nic/3c:ec:ef:00:11:22")
	if eno1.GlobalAssetID != "3c:ec:ef:00:11:22" {
		t.Errorf("eno1 globalAssetId = %q", eno1.GlobalAssetID)
	}
	checkExt(t, eno1, ims.Extensions{
		"name": "eno1", "macAddress": "3c:ec:ef:00:11:22", "speedMbps": int64(1000), "operState": "up",
		"mtu": int64(1500), "driver": "e1000e", "pciAddress": "0000:00:1f.6", "vendorId": "0x8086", "deviceId": "0x15bc",
	})
	enp2s0 := mustResource(t, snap, "nic/3c:ec:ef:00:11:33")
	checkExt(t, enp2s0, ims.Extensions{"operState": "down", "mtu": int64(9000), "driver": "igb", "deviceId": "0x1533"})
	checkNoExt(t, enp2s0, "speedMbps")
	if got := resourcesTagged(snap, "nic"); len(got) != 2 {
		t.Errorf("nics = %d, want 2 (lo and br0 skipped)", len(got))
	}

	gpu := mustResource(t, snap, "pci/0000:01:00.0")
	checkExt(t, gpu, ims.Extensions{
		"pciAddress": "0000:01:00.0", "classId": "0x030200", "vendorId": "0x10de", "deviceId": "0x20b5",
		"driver": "nvidia", "numaNode": int64(0), "revision": "0xa1",
	})
	if !slices.Equal(gpu.Tags, []string{"accelerator", "gpu"}) {
		t.Errorf("gpu tags = %q", gpu.Tags)
	}
	if got := resourcesTagged(snap, "accelerator"); len(got) != 1 {
		t.Errorf("accelerators = %d, want 1 (NICs and storage controllers are not)", len(got))
	}

	// Every device hangs off the host, and the host lists them all.
	if len(snap.Resources) != 8 {
		t.Errorf("resources = %d, want 8", len(snap.Resources))
	}
	var children []ims.Resource
	for _, r := range snap.Resources {
		if r.ResourcePoolID != poolID {
			t.Errorf("%s: pool %s, want %s", r.Description, r.ResourcePoolID, poolID)
		}
		if r.ResourceID == hostID {
			continue
		}
		if r.ParentID != hostID {
			t.Errorf("%s: parent %s, want host %s", r.Description, r.ParentID, hostID)
		}
		if r.Elements != nil {
			t.Errorf("%s: has elements", r.Description)
		}
		children = append(children, r)
	}
	if !reflect.DeepEqual(host.Elements, children) {
		t.Errorf("host elements differ from the device resources:\n%+v\n%+v", host.Elements, children)
	}

	type typeTuple struct {
		class                  ims.ResourceClass
		kind                   ims.ResourceKind
		vendor, model, version string
	}
	var gotTypes []typeTuple
	for _, rt := range snap.ResourceTypes {
		gotTypes = append(gotTypes, typeTuple{rt.ResourceClass, rt.ResourceKind, rt.Vendor, rt.Model, rt.Version})
		if rt.Name == "" {
			t.Errorf("type %s has no name", rt.ResourceTypeID)
		}
	}
	P := ims.ResourceKindPhysical
	wantTypes := []typeTuple{
		{ims.ResourceClassCompute, P, "Dell Inc.", "PowerEdge R750", ""},
		{ims.ResourceClassCompute, P, "GenuineIntel", "Intel(R) Xeon(R) Gold 6338N CPU @ 2.20GHz", ""},
		{ims.ResourceClassCompute, P, "unknown", "RAM", ""},
		{ims.ResourceClassStorage, P, "unknown", "Samsung SSD 980 PRO 1TB", "5B2QGXA7"},
		{ims.ResourceClassStorage, P, "ATA", "ST4000NM0035-1V4", "TN04"},
		{ims.ResourceClassNetworking, P, "0x8086", "0x15bc", ""},
		{ims.ResourceClassNetworking, P, "0x8086", "0x1533", ""},
		{ims.ResourceClassCompute, P, "0x10de", "0x20b5", "0xa1"},
	}
	less := func(a, b typeTuple) int {
		return cmpStrings(string(a.class)+a.vendor+a.model, string(b.class)+b.vendor+b.model)
	}
	slices.SortFunc(gotTypes, less)
	slices.SortFunc(wantTypes, less)
	if !reflect.DeepEqual(gotTypes, wantTypes) {
		t.Errorf("types =\n%+v\nwant\n%+v", gotTypes, wantTypes)
	}
	server, _ := typeByID(snap, host.ResourceTypeID)
	if server.Name != "Dell Inc. PowerEdge R750 server" {
		t.Errorf("server type name = %q", server.Name)
	}

	if len(snap.DeploymentManagers) != 1 {
		t.Fatalf("deployment managers = %d, want 1", len(snap.DeploymentManagers))
	}
	dm := snap.DeploymentManagers[0]
	wantDM := ims.DeploymentManager{
		DeploymentManagerID: ids.id("deployment-manager"),
		Name:                "edge-01",
		Description:         dm.Description,
		ServiceURI:          "ssh://edge-01",
		Capabilities:        map[string]any{"runtime": "host", "os": "Fixture Linux 12 (test)", "architecture": runtime.GOARCH},
		Capacity:            map[string]any{"cpu": 2, "memoryBytes": int64(16318412 * 1024)},
		Extensions:          ims.Extensions{"provider": "local", "providerName": "local", "hostResourceId": hostID},
	}
	if !reflect.DeepEqual(dm, wantDM) {
		t.Errorf("deployment manager = %+v, want %+v", dm, wantDM)
	}

	assertSorted(t, snap)
}

func cmpStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func assertSorted(t *testing.T, snap ims.Snapshot) {
	t.Helper()
	if !slices.IsSortedFunc(snap.Resources, func(a, b ims.Resource) int { return cmpStrings(a.ResourceID, b.ResourceID) }) {
		t.Error("resources are not sorted by id")
	}
	if !slices.IsSortedFunc(snap.ResourceTypes, func(a, b ims.ResourceType) int { return cmpStrings(a.ResourceTypeID, b.ResourceTypeID) }) {
		t.Error("resource types are not sorted by id")
	}
	for _, r := range snap.Resources {
		if !slices.IsSortedFunc(r.Elements, func(a, b ims.Resource) int { return cmpStrings(a.ResourceID, b.ResourceID) }) {
			t.Errorf("%s: elements are not sorted by id", r.Description)
		}
	}
}

func allIDs(snap ims.Snapshot) []string {
	var ids []string
	for _, rt := range snap.ResourceTypes {
		ids = append(ids, rt.ResourceTypeID)
	}
	for _, p := range snap.ResourcePools {
		ids = append(ids, p.ResourcePoolID)
	}
	for _, r := range snap.Resources {
		ids = append(ids, r.ResourceID)
	}
	for _, dm := range snap.DeploymentManagers {
		ids = append(ids, dm.DeploymentManagerID)
	}
	return ids
}

func TestDiscoverIDsAreStable(t *testing.T) {
	root := newFixture(t)
	opts := fixtureOptions(root)
	first := discover(t, opts)
	second := discover(t, opts)
	if !reflect.DeepEqual(first, second) {
		t.Fatal("two discoveries of an unchanged machine differ")
	}
	// A new Provider (a restart) reproduces the ids too.
	if again := discover(t, opts); !reflect.DeepEqual(first, again) {
		t.Fatal("a new provider produced a different snapshot")
	}

	seen := map[string]bool{}
	for _, id := range allIDs(first) {
		if seen[id] {
			t.Errorf("id %s used twice", id)
		}
		seen[id] = true
	}

	writeFile(t, filepath.Join(root, "etc", "machine-id"), "0f1e2d3c4b5a69788796a5b4c3d2e1f0\n")
	other := discover(t, opts)
	for _, id := range allIDs(other) {
		if seen[id] {
			t.Errorf("id %s is shared by two machines", id)
		}
	}

	// Without a machine-id the DMI product UUID identifies the machine.
	if err := os.Remove(filepath.Join(root, "etc", "machine-id")); err != nil {
		t.Fatal(err)
	}
	byUUID := discover(t, opts)
	want := newIDMinter("product-uuid:4c4c4544-0042-3010-8052-b4c04f123456").id("host")
	if _, ok := resourceByID(byUUID, want); !ok {
		t.Errorf("no host with the product-uuid derived id %s", want)
	}
	if !reflect.DeepEqual(byUUID, discover(t, opts)) {
		t.Error("product-uuid identity is not stable")
	}

	// Without either, the hostname does.
	if err := os.RemoveAll(filepath.Join(root, "sys", "class", "dmi")); err != nil {
		t.Fatal(err)
	}
	byName := discover(t, opts)
	want = newIDMinter("hostname:edge-01").id("host")
	host, ok := resourceByID(byName, want)
	if !ok {
		t.Fatalf("no host with the hostname derived id %s", want)
	}
	if host.GlobalAssetID != "" {
		t.Errorf("globalAssetId = %q without DMI or machine-id, want empty", host.GlobalAssetID)
	}
}

func TestDiscoverVirtualMachine(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, root string)
	}{
		{
			name: "cpuinfo hypervisor flag",
			setup: func(t *testing.T, root string) {
				writeFile(t, filepath.Join(root, "proc", "cpuinfo"),
					"processor : 0\nvendor_id : AuthenticAMD\nmodel name : AMD EPYC\nflags : fpu hypervisor\n")
			},
		},
		{
			name: "sys/hypervisor",
			setup: func(t *testing.T, root string) {
				writeFile(t, filepath.Join(root, "sys", "hypervisor", "type"), "xen\n")
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := newFixture(t)
			tt.setup(t, root)
			snap := discover(t, fixtureOptions(root))
			host := mustResource(t, snap, "host")
			checkExt(t, host, ims.Extensions{"virtualized": true})
			for _, rt := range snap.ResourceTypes {
				if rt.ResourceKind != ims.ResourceKindLogical {
					t.Errorf("type %s kind = %s, want LOGICAL on a virtual machine", rt.Name, rt.ResourceKind)
				}
			}
		})
	}
}

func TestDiscoverEmptyBareMetalHypervisorDir(t *testing.T) {
	root := newFixture(t)
	if err := os.MkdirAll(filepath.Join(root, "sys", "hypervisor"), 0o755); err != nil {
		t.Fatal(err)
	}
	host := mustResource(t, discover(t, fixtureOptions(root)), "host")
	checkExt(t, host, ims.Extensions{"virtualized": false})
}

func TestDiscoverWithoutCPUInfoUsesSysfs(t *testing.T) {
	root := newFixture(t)
	if err := os.Remove(filepath.Join(root, "proc", "cpuinfo")); err != nil {
		t.Fatal(err)
	}
	snap := discover(t, fixtureOptions(root))
	cpu := mustResource(t, snap, "cpu/0")
	checkExt(t, cpu, ims.Extensions{"vendor": "unknown", "model": "unknown", "cores": 1, "threads": 2, "mhz": 3400.0})
	checkNoExt(t, cpu, "flagsCount", "cacheSize")
}

func TestDiscoverToleratesMissingFiles(t *testing.T) {
	const cpuinfo = "processor : 0\nvendor_id : GenuineIntel\nmodel name : Xeon\n"
	const meminfo = "MemTotal: 1024 kB\n"
	tests := []struct {
		name      string
		files     map[string]string
		wantErr   bool
		wantCPUs  int
		wantMem   int
		wantTotal int
	}{
		{name: "only cpuinfo", files: map[string]string{"proc/cpuinfo": cpuinfo}, wantCPUs: 1, wantTotal: 2},
		{name: "only meminfo", files: map[string]string{"proc/meminfo": meminfo}, wantMem: 1, wantTotal: 2},
		{name: "neither", files: map[string]string{"proc/uptime": "1 1\n"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for path, content := range tt.files {
				writeFile(t, filepath.Join(root, path), content)
			}
			opts := fixtureOptions(root)
			opts.Hostname = func() (string, error) { return "", errors.New("no resolver") }
			snap, err := New(opts, testLogger(t)).Discover(context.Background())
			if tt.wantErr {
				if code := ims.ErrorCode(err); code != ims.EUNAVAILABLE {
					t.Fatalf("err = %v (code %q), want %s", err, code, ims.EUNAVAILABLE)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := len(resourcesTagged(snap, "cpu")); got != tt.wantCPUs {
				t.Errorf("cpus = %d, want %d", got, tt.wantCPUs)
			}
			if got := len(resourcesTagged(snap, "memory")); got != tt.wantMem {
				t.Errorf("memory resources = %d, want %d", got, tt.wantMem)
			}
			if len(snap.Resources) != tt.wantTotal {
				t.Errorf("resources = %d, want %d", len(snap.Resources), tt.wantTotal)
			}
			if snap.DeploymentManagers[0].Name != "localhost" || snap.ResourcePools[0].Name != "localhost-site" {
				t.Errorf("hostname fallback: dm %q, pool %q", snap.DeploymentManagers[0].Name, snap.ResourcePools[0].Name)
			}
			checkResourceReferences(t, snap)
		})
	}
}

func TestDiscoverHonoursCancellation(t *testing.T) {
	root := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := New(fixtureOptions(root), testLogger(t)).Discover(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestHealth(t *testing.T) {
	root := newFixture(t)
	if err := New(fixtureOptions(root), nil).Health(context.Background()); err != nil {
		t.Errorf("Health on a readable tree: %v", err)
	}

	missing := fixtureOptions(root)
	missing.SysRoot = filepath.Join(root, "nonexistent")
	if err := New(missing, nil).Health(context.Background()); ims.ErrorCode(err) != ims.EUNAVAILABLE {
		t.Errorf("Health without sysfs = %v, want %s", err, ims.EUNAVAILABLE)
	}

	empty := fixtureOptions(root)
	empty.ProcRoot = t.TempDir()
	if err := New(empty, nil).Health(context.Background()); ims.ErrorCode(err) != ims.EUNAVAILABLE {
		t.Errorf("Health with an empty procfs = %v, want %s", err, ims.EUNAVAILABLE)
	}
}

func TestNewDefaults(t *testing.T) {
	p := New(Options{}, nil)
	if p.Name() != "local" {
		t.Errorf("Name() = %q, want local", p.Name())
	}
	if p.opts.ProcRoot != "/proc" || p.opts.SysRoot != "/sys" || p.opts.EtcRoot != "/etc" || p.opts.Hostname == nil {
		t.Errorf("defaults not applied: %+v", p.opts)
	}
	if got := New(Options{Name: "edge"}, nil).Name(); got != "edge" {
		t.Errorf("Name() = %q, want edge", got)
	}
}

// checkResourceReferences asserts the snapshot is referentially complete.
func checkResourceReferences(t *testing.T, snap ims.Snapshot) {
	t.Helper()
	pools := map[string]bool{}
	for _, p := range snap.ResourcePools {
		pools[p.ResourcePoolID] = true
	}
	for _, r := range snap.Resources {
		if _, ok := typeByID(snap, r.ResourceTypeID); !ok {
			t.Errorf("%s: resource type %s not in snapshot", r.Description, r.ResourceTypeID)
		}
		if !pools[r.ResourcePoolID] {
			t.Errorf("%s: pool %s not in snapshot", r.Description, r.ResourcePoolID)
		}
		if r.ParentID != "" {
			if _, ok := resourceByID(snap, r.ParentID); !ok {
				t.Errorf("%s: parent %s not in snapshot", r.Description, r.ParentID)
			}
		}
	}
}

func TestDiscoverRealMachine(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the local provider reads Linux procfs and sysfs")
	}
	snap := discover(t, Options{})
	var host *ims.Resource
	for i, r := range snap.Resources {
		if slices.Contains(r.Tags, "host") {
			host = &snap.Resources[i]
		}
	}
	if host == nil {
		t.Fatal("no host resource")
	}
	mem, _ := host.Extensions["memory"].(map[string]any)
	if total, _ := mem["totalBytes"].(int64); total <= 0 {
		t.Errorf("memory total = %v, want > 0", mem["totalBytes"])
	}
	if n := len(resourcesTagged(snap, "cpu")); n < 1 {
		t.Errorf("cpu resources = %d, want at least 1", n)
	}
	checkResourceReferences(t, snap)
	assertSorted(t, snap)

	counts := map[ims.ResourceClass]int{}
	for _, r := range snap.Resources {
		rt, _ := typeByID(snap, r.ResourceTypeID)
		counts[rt.ResourceClass]++
	}
	t.Logf("real machine: %d resources %v, %d types, tags cpu=%d memory=%d disk=%d nic=%d accelerator=%d, host extensions %v",
		len(snap.Resources), counts, len(snap.ResourceTypes),
		len(resourcesTagged(snap, "cpu")), len(resourcesTagged(snap, "memory")), len(resourcesTagged(snap, "disk")),
		len(resourcesTagged(snap, "nic")), len(resourcesTagged(snap, "accelerator")), host.Extensions)
}

// cancelAfter is a context that reports cancellation once Err has been
// consulted n times, to cancel a discovery part way through.
type cancelAfter struct {
	context.Context
	n *int
}

func (c cancelAfter) Err() error {
	if *c.n <= 0 {
		return context.Canceled
	}
	*c.n--
	return nil
}

func TestDiscoverHonoursCancellationBetweenDevices(t *testing.T) {
	root := newFixture(t)
	p := New(fixtureOptions(root), testLogger(t))
	for n := 1; n <= 6; n++ {
		remaining := n
		_, err := p.Discover(cancelAfter{Context: context.Background(), n: &remaining})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled after %d checks: err = %v, want context.Canceled", n, err)
		}
	}
}

func TestDiscoverSharedMACFallsBackToNames(t *testing.T) {
	root := newFixture(t)
	// Bonding gives every slave the bond's MAC.
	writeFile(t, filepath.Join(root, "sys/class/net/enp2s0/address"), "3c:ec:ef:00:11:22\n")
	snap := discover(t, fixtureOptions(root))
	eno1 := mustResource(t, snap, "nic/eno1")
	enp2s0 := mustResource(t, snap, "nic/enp2s0")
	if eno1.GlobalAssetID != "3c:ec:ef:00:11:22" || enp2s0.GlobalAssetID != "3c:ec:ef:00:11:22" {
		t.Errorf("globalAssetIds = %q, %q", eno1.GlobalAssetID, enp2s0.GlobalAssetID)
	}
}
