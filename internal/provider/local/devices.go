package local

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/nephoran/o2ims/internal/ims"
)

// device is a discovered device before it is given an id.
type device struct {
	preferredKey string // natural key from a hardware identity; may be empty or shared
	fallbackKey  string // natural key from the kernel name; unique on the machine
	spec         typeSpec
	assetID      string
	description  string
	tags         []string
	ext          ims.Extensions
}

// disks reports the block devices backed by hardware, and how many virtual
// ones were skipped. Besides loop, ram, zram and device-mapper nodes, any device without a
// "device" link (md, nbd, …) is skipped: it aggregates or proxies storage
// that is reported elsewhere, and counting it would double the capacity.
func (s scan) disks(ctx context.Context, kind ims.ResourceKind) ([]device, int, error) {
	var out []device
	skipped := 0
	root := filepath.Join(s.sys, "block")
	for _, name := range s.names(root) {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		dir := filepath.Join(root, name)
		if isVirtualBlockName(name) || !s.exists(filepath.Join(dir, "device")) {
			s.log.Debug("skipping virtual block device", "name", name)
			skipped++
			continue
		}
		dev := filepath.Join(dir, "device")
		ext := ims.Extensions{"name": name}
		if sectors, ok := s.integer(filepath.Join(dir, "size")); ok {
			// The size attribute counts 512-byte units whatever the
			// device's logical block size.
			ext["sizeBytes"] = sectors * 512
		}
		if v, ok := s.flag(filepath.Join(dir, "queue", "rotational")); ok {
			ext["rotational"] = v
		}
		if v, ok := s.flag(filepath.Join(dir, "removable")); ok {
			ext["removable"] = v
		}
		if v, ok := s.flag(filepath.Join(dir, "ro")); ok {
			ext["readOnly"] = v
		}
		vendor := s.firstText(filepath.Join(dev, "vendor"))
		model := s.firstText(filepath.Join(dev, "model"))
		serial := s.firstText(filepath.Join(dev, "serial"), filepath.Join(dir, "serial"))
		// SATA and SAS disks expose their serial only in binary VPD pages;
		// the WWID is the stable identity sysfs offers for them.
		wwid := s.firstText(filepath.Join(dev, "wwid"), filepath.Join(dir, "wwid"))
		firmware := s.firstText(filepath.Join(dev, "firmware_rev"), filepath.Join(dev, "rev"))
		driver, _ := s.linkBase(filepath.Join(dev, "driver"))
		putString(ext, "vendor", vendor)
		putString(ext, "model", model)
		putString(ext, "serial", serial)
		putString(ext, "wwid", wwid)
		putString(ext, "firmware", firmware)
		putString(ext, "driver", driver)

		typeModel := model
		if typeModel == "" {
			typeModel = driver
		}
		typeName := displayName(vendor, typeModel, "disk")
		if displayName(vendor, typeModel) == "" {
			typeName = "Disk"
		}
		identity := serial
		if identity == "" {
			identity = wwid
		}
		d := device{
			fallbackKey: "disk/" + name,
			spec: typeSpec{
				class: ims.ResourceClassStorage, kind: kind,
				vendor: vendor, model: typeModel, version: firmware,
				name: typeName, description: "Block storage device",
			},
			assetID:     identity,
			description: fmt.Sprintf("Disk %s", name),
			tags:        []string{"disk"},
			ext:         ext,
		}
		if identity != "" {
			d.preferredKey = "disk/" + identity
		}
		if size, ok := ext["sizeBytes"].(int64); ok {
			d.description = fmt.Sprintf("Disk %s (%s)", name, humanBytes(size))
		}
		out = append(out, d)
	}
	return out, skipped, nil
}

// nics reports the network interfaces backed by a device, and how many
// virtual interfaces (bridges, veths, tunnels; loopback excluded) were
// skipped. A virtual interface has no "device" link in sysfs.
func (s scan) nics(ctx context.Context, kind ims.ResourceKind) ([]device, int, error) {
	var out []device
	skipped := 0
	root := filepath.Join(s.sys, "class", "net")
	for _, name := range s.names(root) {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		if name == "lo" {
			continue
		}
		dir := filepath.Join(root, name)
		dev := filepath.Join(dir, "device")
		if !s.exists(dev) {
			s.log.Debug("skipping virtual network interface", "name", name)
			skipped++
			continue
		}
		ext := ims.Extensions{"name": name}
		mac, _ := s.text(filepath.Join(dir, "address"))
		mac = strings.ToLower(mac)
		if strings.Trim(mac, "0:") == "" {
			mac = ""
		}
		putString(ext, "macAddress", mac)
		// Reading speed fails with EINVAL while the link is down, and
		// drivers that cannot tell report -1; both mean "unknown".
		if speed, ok := s.integer(filepath.Join(dir, "speed")); ok && speed > 0 && speed < 1<<32-1 {
			ext["speedMbps"] = speed
		}
		if v, ok := s.text(filepath.Join(dir, "operstate")); ok {
			ext["operState"] = v
		}
		if v, ok := s.integer(filepath.Join(dir, "mtu")); ok {
			ext["mtu"] = v
		}
		driver, _ := s.linkBase(filepath.Join(dev, "driver"))
		putString(ext, "driver", driver)
		pci := s.pciFunctionOf(dev)
		pci.addTo(ext)

		model := pci.device
		if model == "" {
			model = driver
		}
		typeName := "Network interface"
		if pci.vendor != "" {
			typeName += " " + pci.shortIDs()
		}
		if driver != "" {
			typeName += " (" + driver + ")"
		}
		d := device{
			fallbackKey: "nic/" + name,
			spec: typeSpec{
				class: ims.ResourceClassNetworking, kind: kind,
				vendor: pci.vendor, model: model,
				name: typeName, description: "Network interface controller",
			},
			assetID:     mac,
			description: fmt.Sprintf("Network interface %s", name),
			tags:        []string{"nic"},
			ext:         ext,
		}
		if mac != "" {
			d.preferredKey = "nic/" + mac
			d.description += " (" + mac + ")"
		}
		out = append(out, d)
	}
	return out, skipped, nil
}

// accelerators reports PCI functions that offload computation: display
// controllers (GPUs), processing accelerators such as FPGAs and the vRAN
// FEC cards O-RAN DUs use, and co-processors such as crypto engines, which
// the PCI class table files elsewhere but serve the same purpose.
func (s scan) accelerators(ctx context.Context, kind ims.ResourceKind) ([]device, error) {
	var out []device
	root := filepath.Join(s.sys, "bus", "pci", "devices")
	for _, addr := range s.names(root) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		dir := filepath.Join(root, addr)
		classText, ok := s.text(filepath.Join(dir, "class"))
		if !ok {
			continue
		}
		class, ok := parsePCIClass(classText)
		if !ok {
			continue
		}
		var label string
		tags := []string{"accelerator"}
		switch {
		case class>>16 == 0x03:
			label = "Display controller"
			tags = append(tags, "gpu")
		case class>>16 == 0x12:
			label = "Processing accelerator"
		case class>>8 == 0x0b40:
			label = "Co-processor"
		default:
			continue
		}
		pci := s.pciIDs(dir, addr)
		ext := ims.Extensions{"classId": strings.ToLower(classText)}
		pci.addTo(ext)
		if v, ok := s.text(filepath.Join(dir, "subsystem_vendor")); ok {
			ext["subsystemVendorId"] = strings.ToLower(v)
		}
		if v, ok := s.text(filepath.Join(dir, "subsystem_device")); ok {
			ext["subsystemDeviceId"] = strings.ToLower(v)
		}
		revision, _ := s.text(filepath.Join(dir, "revision"))
		putString(ext, "revision", strings.ToLower(revision))
		driver, _ := s.linkBase(filepath.Join(dir, "driver"))
		putString(ext, "driver", driver)
		// A NUMA node of -1 means the platform does not say.
		if node, ok := s.integer(filepath.Join(dir, "numa_node")); ok && node >= 0 {
			ext["numaNode"] = node
		}
		out = append(out, device{
			fallbackKey: "pci/" + addr,
			spec: typeSpec{
				class: ims.ResourceClassCompute, kind: kind,
				vendor: pci.vendor, model: pci.device, version: strings.ToLower(revision),
				name: label + " " + pci.shortIDs(), description: "PCI " + strings.ToLower(label),
			},
			description: fmt.Sprintf("%s %s at PCI %s", label, pci.shortIDs(), addr),
			tags:        tags,
			ext:         ext,
		})
	}
	return out, nil
}

// pciFunction identifies a PCI function by address and vendor/device ids.
type pciFunction struct {
	address, vendor, device string
}

func (p pciFunction) addTo(ext ims.Extensions) {
	putString(ext, "pciAddress", p.address)
	putString(ext, "vendorId", p.vendor)
	putString(ext, "deviceId", p.device)
}

// shortIDs renders "8086:1572", the form lspci users recognise.
func (p pciFunction) shortIDs() string {
	return strings.TrimPrefix(orUnknown(p.vendor), "0x") + ":" + strings.TrimPrefix(orUnknown(p.device), "0x")
}

func (s scan) pciIDs(dir, addr string) pciFunction {
	vendor, _ := s.text(filepath.Join(dir, "vendor"))
	dev, _ := s.text(filepath.Join(dir, "device"))
	return pciFunction{address: addr, vendor: strings.ToLower(vendor), device: strings.ToLower(dev)}
}

// pciFunctionOf finds the PCI function behind a device link. The link does
// not always point at the PCI function itself: a virtio NIC's points at the
// virtio device, whose parent is the PCI function, so a few ancestors are
// searched.
func (s scan) pciFunctionOf(link string) pciFunction {
	dir, err := filepath.EvalSymlinks(link)
	if err != nil {
		s.log.Debug("skipping unresolvable device link", "path", link, "err", err)
		return pciFunction{}
	}
	for range 4 {
		if name := filepath.Base(dir); isPCIAddress(name) {
			return s.pciIDs(dir, name)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return pciFunction{}
}

// firstText returns the content of the first readable path.
func (s scan) firstText(paths ...string) string {
	for _, p := range paths {
		if v, ok := s.text(p); ok {
			return squeeze(v)
		}
	}
	return ""
}

// putString sets key only for non-empty values, so absent facts are absent
// from the JSON rather than present and blank.
func putString(ext ims.Extensions, key, value string) {
	if value != "" {
		ext[key] = value
	}
}

// isVirtualBlockName reports block devices that are views of other storage
// or of memory. They have no hardware behind them, and a loop device per
// mounted snap or image would drown the real disks.
func isVirtualBlockName(name string) bool {
	for _, p := range []string{"loop", "ram", "zram", "dm-"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// humanBytes renders a size in binary units for descriptions.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
