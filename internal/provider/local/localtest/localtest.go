// Package localtest builds the local provider's test machine: a fake root
// of proc, sys and etc, from internal/provider/local/testdata/machine, for
// the tests of the local provider and of the packages that reuse its
// discovery (the edge agent).
package localtest

import (
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Paths of the test machine's devices under its root.
const (
	PCI    = "sys/devices/pci0000:00/"
	NVMe   = PCI + "0000:00:1d.0/nvme/nvme0/"
	SCSI   = PCI + "0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/"
	Eno1   = PCI + "0000:00:1f.6/"
	Enp2s0 = PCI + "0000:00:1c.0/0000:02:00.0/"
	GPU    = PCI + "0000:00:01.0/0000:01:00.0/"
)

// source is testdata/machine of the local provider.
func source() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "machine")
}

// Machine copies the test machine into a new temporary directory and
// adds what cannot be committed: the symlinks sysfs is made of, and a
// speed attribute that fails to read as it does on a NIC whose link is
// down. Fixture file names escape ':' as %3A, because module zips and
// Windows reject colons, and PCI addresses are full of them.
func Machine(t testing.TB) string {
	t.Helper()
	root := t.TempDir()
	if err := Build(root); err != nil {
		t.Fatal(err)
	}
	return root
}

// Build writes the test machine into the directory root, as Machine
// does, for programs without a testing.TB (the agent benchmark).
func Build(root string) error {
	src := source()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if rel, err = url.PathUnescape(rel); err != nil {
			return err
		}
		dst := filepath.Join(root, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		return err
	}
	links := []struct{ at, target string }{
		{"sys/block/nvme0n1", "../devices/pci0000:00/0000:00:1d.0/nvme/nvme0/nvme0n1"},
		{"sys/block/sda", "../devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda"},
		{"sys/block/loop0", "../devices/virtual/block/loop0"},
		{NVMe + "nvme0n1/device", "../../nvme0"},
		{SCSI + "block/sda/device", "../../../0:0:0:0"},
		{SCSI + "driver", "../../../../../../../bus/scsi/drivers/sd"},
		{"sys/class/net/lo", "../../devices/virtual/net/lo"},
		{"sys/class/net/br0", "../../devices/virtual/net/br0"},
		{"sys/class/net/eno1", "../../devices/pci0000:00/0000:00:1f.6/net/eno1"},
		{"sys/class/net/enp2s0", "../../devices/pci0000:00/0000:00:1c.0/0000:02:00.0/net/enp2s0"},
		{Eno1 + "net/eno1/device", "../../../0000:00:1f.6"},
		{Eno1 + "driver", "../../../bus/pci/drivers/e1000e"},
		{Enp2s0 + "net/enp2s0/device", "../../../0000:02:00.0"},
		{Enp2s0 + "driver", "../../../../bus/pci/drivers/igb"},
		{GPU + "driver", "../../../../bus/pci/drivers/nvidia"},
		{"sys/bus/pci/devices/0000:00:17.0", "../../../devices/pci0000:00/0000:00:17.0"},
		{"sys/bus/pci/devices/0000:00:1d.0", "../../../devices/pci0000:00/0000:00:1d.0"},
		{"sys/bus/pci/devices/0000:00:1f.6", "../../../devices/pci0000:00/0000:00:1f.6"},
		{"sys/bus/pci/devices/0000:02:00.0", "../../../devices/pci0000:00/0000:00:1c.0/0000:02:00.0"},
		{"sys/bus/pci/devices/0000:01:00.0", "../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0"},
	}
	for _, l := range links {
		at := filepath.Join(root, l.at)
		if err := os.MkdirAll(filepath.Dir(at), 0o755); err != nil {
			return err
		}
		if err := os.Symlink(l.target, at); err != nil {
			return err
		}
	}
	return os.Mkdir(filepath.Join(root, Enp2s0, "net/enp2s0/speed"), 0o755)
}
