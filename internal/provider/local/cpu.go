package local

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// logicalCPU is one hardware thread as the kernel numbers it.
type logicalCPU struct {
	index  int
	pkg    int
	core   string // identifies the physical core; threads sharing one share it
	mhz    float64
	fields map[string]string
}

// cpuPackage summarises one CPU socket.
type cpuPackage struct {
	id        int
	vendor    string
	model     string
	cores     int
	threads   int
	mhz       float64 // 0 when unknown
	flags     int     // number of feature flags; 0 when unknown
	cacheSize string
}

// cpuFacts is what the machine reveals about its processors.
type cpuFacts struct {
	packages   []cpuPackage
	hypervisor bool // a CPU advertises the "hypervisor" flag, i.e. runs as a guest
}

// threads returns the number of hardware threads across packages.
func (c cpuFacts) threads() int {
	n := 0
	for _, p := range c.packages {
		n += p.threads
	}
	return n
}

// cores returns the number of physical cores across packages.
func (c cpuFacts) cores() int {
	n := 0
	for _, p := range c.packages {
		n += p.cores
	}
	return n
}

// cpus reads the processors from /proc/cpuinfo, completing topology and
// frequency from sysfs. When cpuinfo is unreadable the CPU list comes from
// sysfs alone, and the returned error reports the cpuinfo failure so the
// caller can tell whether the machine is readable at all.
func (s scan) cpus() (cpuFacts, error) {
	info, err := s.readCPUInfo()
	if err != nil {
		s.log.Debug("cpuinfo unreadable, falling back to sysfs", "err", err)
	}
	sysCPU := filepath.Join(s.sys, "devices", "system", "cpu")

	var cpus []logicalCPU
	for i, fields := range info.processors {
		idx := i
		if n, convErr := strconv.Atoi(fields["processor"]); convErr == nil {
			idx = n
		}
		cpus = append(cpus, logicalCPU{index: idx, fields: fields})
	}
	if len(cpus) == 0 {
		for _, name := range s.names(sysCPU) {
			if n, ok := cpuDirIndex(name); ok {
				cpus = append(cpus, logicalCPU{index: n, fields: map[string]string{}})
			}
		}
	}

	var facts cpuFacts
	for i := range cpus {
		c := &cpus[i]
		dir := filepath.Join(sysCPU, "cpu"+strconv.Itoa(c.index))
		c.pkg = s.topologyInt(c.fields["physical id"], filepath.Join(dir, "topology", "physical_package_id"))
		// The sibling list names the physical core exactly, even on
		// multi-die parts where core ids repeat within a package.
		if sib, ok := s.text(filepath.Join(dir, "topology", "thread_siblings_list")); ok {
			c.core = "siblings:" + sib
		} else if id := c.fields["core id"]; id != "" {
			c.core = "core:" + id
		} else if id, ok := s.text(filepath.Join(dir, "topology", "core_id")); ok {
			c.core = "core:" + id
		} else {
			c.core = "cpu:" + strconv.Itoa(c.index)
		}
		// The nominal maximum is preferred over cpuinfo's "cpu MHz", which
		// follows frequency scaling and would make every refresh look
		// like a hardware change.
		if khz, ok := s.integer(filepath.Join(dir, "cpufreq", "cpuinfo_max_freq")); ok && khz > 0 {
			c.mhz = float64(khz) / 1000
		} else if f, convErr := strconv.ParseFloat(c.fields["cpu MHz"], 64); convErr == nil && f > 0 {
			c.mhz = f
		}
		if slices.Contains(strings.Fields(info.lookup(c.fields, "flags")), "hypervisor") {
			facts.hypervisor = true
		}
	}
	facts.packages = buildPackages(cpus, info)
	return facts, err
}

func (s scan) readCPUInfo() (cpuInfo, error) {
	f, err := os.Open(filepath.Join(s.proc, "cpuinfo"))
	if err != nil {
		return cpuInfo{global: map[string]string{}}, err
	}
	defer f.Close()
	return parseCPUInfo(f)
}

// topologyInt returns a package number from cpuinfo, else from sysfs, else
// 0. Negative sysfs values (some ARM firmware reports -1) also map to 0, so
// such machines still get one package.
func (s scan) topologyInt(fromCPUInfo, sysPath string) int {
	if n, err := strconv.Atoi(fromCPUInfo); err == nil && n >= 0 {
		return n
	}
	if n, ok := s.integer(sysPath); ok && n >= 0 {
		return int(n)
	}
	return 0
}

// cpuDirIndex parses the N of a sysfs "cpuN" directory.
func cpuDirIndex(name string) (int, bool) {
	digits, ok := strings.CutPrefix(name, "cpu")
	if !ok || digits == "" {
		return 0, false
	}
	n, err := strconv.Atoi(digits)
	return n, err == nil && n >= 0
}

// buildPackages groups logical CPUs into packages, sorted by package id.
func buildPackages(cpus []logicalCPU, info cpuInfo) []cpuPackage {
	byPkg := map[int][]logicalCPU{}
	for _, c := range cpus {
		byPkg[c.pkg] = append(byPkg[c.pkg], c)
	}
	out := make([]cpuPackage, 0, len(byPkg))
	for _, id := range slices.Sorted(maps.Keys(byPkg)) {
		members := byPkg[id]
		slices.SortFunc(members, func(a, b logicalCPU) int { return a.index - b.index })
		first := members[0].fields
		pkg := cpuPackage{
			id:        id,
			vendor:    orUnknown(info.lookup(first, "vendor_id", "vendor", "CPU implementer")),
			model:     orUnknown(info.lookup(first, "model name", "cpu model", "Processor", "cpu", "CPU part")),
			threads:   len(members),
			flags:     len(strings.Fields(info.lookup(first, "flags", "Features"))),
			cacheSize: info.lookup(first, "cache size"),
		}
		cores := map[string]bool{}
		for _, c := range members {
			cores[c.core] = true
			// Hybrid parts mix core types; the fastest is the package's rating.
			pkg.mhz = max(pkg.mhz, c.mhz)
		}
		pkg.cores = len(cores)
		out = append(out, pkg)
	}
	return out
}
