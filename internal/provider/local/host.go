package local

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/nephoran/o2ims/internal/ims"
)

// memFacts is what /proc/meminfo says about memory, in bytes.
type memFacts struct {
	total, available int64
	hugePages        int64 // configured huge pages of the default size
	hugePageSize     int64
}

// meminfo reads /proc/meminfo. MemAvailable only exists since Linux 3.14;
// on older kernels it is estimated the way free(1) did.
func (s scan) meminfo() (memFacts, error) {
	f, err := os.Open(filepath.Join(s.proc, "meminfo"))
	if err != nil {
		s.log.Debug("meminfo unreadable", "err", err)
		return memFacts{}, err
	}
	defer f.Close()
	m, err := parseMeminfo(f)
	if err != nil {
		s.log.Debug("meminfo malformed", "err", err)
		return memFacts{}, err
	}
	mem := memFacts{total: m["MemTotal"], hugePages: m["HugePages_Total"], hugePageSize: m["Hugepagesize"]}
	if v, ok := m["MemAvailable"]; ok {
		mem.available = v
	} else {
		mem.available = m["MemFree"] + m["Buffers"] + m["Cached"]
	}
	return mem, nil
}

// dmiFacts holds the SMBIOS identity of the machine, with the stock
// placeholder strings of unconfigured firmware removed.
type dmiFacts struct {
	vendor, product, version, serial, uuid string
}

// hostFacts is everything known about the host as a whole.
type hostFacts struct {
	hostname    string
	site        string
	identity    string // namespace seed for ids, prefixed by its source
	assetID     string
	os          string
	kernel      string
	arch        string // the kernel's name for the architecture, e.g. "x86_64"
	dmi         dmiFacts
	virtualized bool
	uptime      int64
	hasUptime   bool
	cpu         cpuFacts
	mem         memFacts
}

func (p *Provider) hostFacts(s scan, cpu cpuFacts, mem memFacts) hostFacts {
	h := hostFacts{hostname: p.hostname(s), cpu: cpu, mem: mem}
	h.site = p.opts.SiteName
	if h.site == "" {
		h.site = h.hostname + "-site"
	}
	dmi := filepath.Join(s.sys, "class", "dmi", "id")
	h.dmi = dmiFacts{
		vendor:  s.dmiText(filepath.Join(dmi, "sys_vendor")),
		product: s.dmiText(filepath.Join(dmi, "product_name")),
		version: s.dmiText(filepath.Join(dmi, "product_version")),
		serial:  s.dmiText(filepath.Join(dmi, "product_serial")),
		uuid:    strings.ToLower(s.dmiText(filepath.Join(dmi, "product_uuid"))),
	}
	machineID, _ := s.text(filepath.Join(s.etc, "machine-id"))
	if machineID == "uninitialized" {
		// systemd writes this while first boot is still in progress.
		machineID = ""
	}
	switch {
	case machineID != "":
		h.identity = "machine-id:" + machineID
	case h.dmi.uuid != "":
		h.identity = "product-uuid:" + h.dmi.uuid
	default:
		h.identity = "hostname:" + h.hostname
	}
	h.assetID = firstNonEmpty(h.dmi.serial, h.dmi.uuid, machineID)

	h.os = s.osName()
	h.kernel, _ = s.text(filepath.Join(s.proc, "sys", "kernel", "osrelease"))
	h.arch, _ = s.text(filepath.Join(s.proc, "sys", "kernel", "arch"))
	if h.arch == "" {
		h.arch = runtime.GOARCH
	}
	// Xen guests say so in /sys/hypervisor; KVM, Hyper-V and VMware guests
	// are recognised by the CPUID hypervisor bit the kernel shows as a flag.
	// The directory alone proves nothing: kernels create it on bare metal.
	hvType, _ := s.text(filepath.Join(s.sys, "hypervisor", "type"))
	h.virtualized = cpu.hypervisor || hvType != ""
	if up, ok := s.text(filepath.Join(s.proc, "uptime")); ok {
		h.uptime, h.hasUptime = parseUptime(up)
	}
	return h
}

// hostname asks Options.Hostname, falling back to the kernel's idea, so a
// failing resolver never leaves the host nameless.
func (p *Provider) hostname(s scan) string {
	name, err := p.opts.Hostname()
	if name = strings.TrimSpace(name); err == nil && name != "" {
		return name
	}
	p.log.Warn("hostname unavailable, using the kernel's", "err", err)
	if name, ok := s.text(filepath.Join(s.proc, "sys", "kernel", "hostname")); ok {
		return name
	}
	return "localhost"
}

func (s scan) dmiText(path string) string {
	v, ok := s.text(path)
	if !ok || isPlaceholder(v) {
		return ""
	}
	return squeeze(v)
}

// osName returns os-release's PRETTY_NAME. /etc/os-release is normally a
// link into /usr/lib, so the /usr/lib copy is tried when the link is broken
// in a container image.
func (s scan) osName() string {
	for _, path := range []string{
		filepath.Join(s.etc, "os-release"),
		filepath.Join(s.etc, "..", "usr", "lib", "os-release"),
	} {
		f, err := os.Open(path)
		if err != nil {
			s.log.Debug("skipping unreadable file", "path", path, "err", err)
			continue
		}
		rel, err := parseOSRelease(f)
		f.Close()
		if err != nil {
			s.log.Debug("skipping malformed os-release", "path", path, "err", err)
			continue
		}
		if name := firstNonEmpty(rel["PRETTY_NAME"], strings.TrimSpace(rel["NAME"]+" "+rel["VERSION_ID"])); name != "" {
			return name
		}
	}
	return runtime.GOOS
}

// serverType is the resource type of the host itself.
func (h hostFacts) serverType(kind ims.ResourceKind) typeSpec {
	model := firstNonEmpty(h.dmi.product, h.arch)
	name := displayName(h.dmi.vendor, h.dmi.product, "server")
	description := "Server"
	if h.dmi.vendor == "" && h.dmi.product == "" {
		name = fmt.Sprintf("Generic %s server", h.arch)
	}
	if h.virtualized {
		description = "Virtual machine"
	}
	return typeSpec{
		class: ims.ResourceClassCompute, kind: kind,
		vendor: h.dmi.vendor, model: model, version: h.dmi.version,
		name: name, description: description,
	}
}

// cpuDevices returns one device per CPU package.
func cpuDevices(cpu cpuFacts, kind ims.ResourceKind) []device {
	out := make([]device, 0, len(cpu.packages))
	for _, pkg := range cpu.packages {
		ext := ims.Extensions{
			"package": pkg.id,
			"vendor":  pkg.vendor,
			"model":   pkg.model,
			"cores":   pkg.cores,
			"threads": pkg.threads,
		}
		if pkg.mhz > 0 {
			ext["mhz"] = pkg.mhz
		}
		if pkg.flags > 0 {
			ext["flagsCount"] = pkg.flags
		}
		putString(ext, "cacheSize", pkg.cacheSize)
		name := displayName(pkg.model, "processor")
		if displayName(pkg.model) == "" {
			name = "Processor"
		}
		out = append(out, device{
			fallbackKey: "cpu/" + strconv.Itoa(pkg.id),
			spec: typeSpec{
				class: ims.ResourceClassCompute, kind: kind,
				vendor: pkg.vendor, model: pkg.model,
				name: name, description: "CPU package",
			},
			description: fmt.Sprintf("CPU package %d: %s, %d cores, %d threads", pkg.id, pkg.model, pkg.cores, pkg.threads),
			tags:        []string{"cpu"},
			ext:         ext,
		})
	}
	return out
}

// memoryDevice returns the host's memory as one device: procfs does not
// show DIMMs, and reading SMBIOS tables for them needs root.
func memoryDevice(mem memFacts, kind ims.ResourceKind) device {
	ext := ims.Extensions{"totalBytes": mem.total}
	if mem.hugePages > 0 {
		ext["hugePagesTotal"] = mem.hugePages
		ext["hugePageSizeBytes"] = mem.hugePageSize
	}
	return device{
		fallbackKey: "memory",
		spec: typeSpec{
			class: ims.ResourceClassCompute, kind: kind,
			model: "RAM", name: "System memory", description: "Main memory of the host",
		},
		description: fmt.Sprintf("System memory (%s)", humanBytes(mem.total)),
		tags:        []string{"memory"},
		ext:         ext,
	}
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
