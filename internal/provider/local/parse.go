package local

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// cpuInfo is /proc/cpuinfo split into per-processor blocks. Fields that some
// architectures print once for the whole machine (ARM's "Hardware", for
// instance) land in global, so lookups can fall back to them.
type cpuInfo struct {
	processors []map[string]string
	global     map[string]string
}

// lookup returns the first non-empty value among keys, preferring the
// processor's own block over the machine-wide one.
func (c cpuInfo) lookup(proc map[string]string, keys ...string) string {
	for _, k := range keys {
		if v := proc[k]; v != "" {
			return v
		}
	}
	for _, k := range keys {
		if v := c.global[k]; v != "" {
			return v
		}
	}
	return ""
}

// parseCPUInfo reads the "key : value" blocks of /proc/cpuinfo. A block
// counts as a processor only if it has a "processor" key, because older ARM
// kernels append machine-wide blocks after the per-CPU ones.
func parseCPUInfo(r io.Reader) (cpuInfo, error) {
	info := cpuInfo{global: map[string]string{}}
	block := map[string]string{}
	flush := func() {
		if len(block) == 0 {
			return
		}
		if _, ok := block["processor"]; ok {
			info.processors = append(info.processors, block)
		} else {
			for k, v := range block {
				if _, seen := info.global[k]; !seen {
					info.global[k] = v
				}
			}
		}
		block = map[string]string{}
	}
	sc := bufio.NewScanner(r)
	// Flag lists of modern x86 CPUs run to a few kilobytes; leave headroom.
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		key = strings.TrimSpace(key)
		if key == "" {
			continue
		}
		if _, dup := block[key]; !dup {
			block[key] = strings.TrimSpace(value)
		}
	}
	flush()
	return info, sc.Err()
}

// parseMeminfo reads /proc/meminfo into byte counts. Values with a "kB" unit
// are scaled (the kernel means KiB); unit-less values such as HugePages_Total
// are page counts and are kept as they are.
func parseMeminfo(r io.Reader) (map[string]int64, error) {
	out := map[string]int64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			continue
		}
		if len(fields) > 1 && strings.EqualFold(fields[1], "kB") {
			n *= 1024
		}
		out[strings.TrimSpace(key)] = n
	}
	return out, sc.Err()
}

// parseOSRelease reads the KEY=VALUE format of os-release(5). Values may be
// shell-quoted, so quotes are removed and backslash escapes resolved;
// anything that is not an assignment is ignored rather than rejected, since
// distributions are not strict about the format.
func parseOSRelease(r io.Reader) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		key = strings.TrimSpace(key)
		if key == "" || strings.ContainsAny(key, " \t") {
			continue
		}
		out[key] = unquoteShell(strings.TrimSpace(value))
	}
	return out, sc.Err()
}

// unquoteShell undoes the single level of shell quoting os-release allows.
func unquoteShell(v string) string {
	if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
		return v[1 : len(v)-1]
	}
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	if !strings.Contains(v, `\`) {
		return v
	}
	var b strings.Builder
	escaped := false
	for _, c := range v {
		if !escaped && c == '\\' {
			escaped = true
			continue
		}
		escaped = false
		b.WriteRune(c)
	}
	return b.String()
}

// parseUptime returns the whole seconds of the first field of /proc/uptime.
func parseUptime(s string) (int64, bool) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return 0, false
	}
	f, err := strconv.ParseFloat(fields[0], 64)
	if err != nil || f < 0 {
		return 0, false
	}
	return int64(f), true
}

// parsePCIClass turns the "0x030000" of a PCI class file into its number.
func parsePCIClass(s string) (uint32, bool) {
	n, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(s), "0x"), 16, 32)
	if err != nil {
		return 0, false
	}
	return uint32(n), true
}

// isPCIAddress reports whether name has the domain:bus:device.function form
// the kernel uses for PCI function directories, e.g. "0000:3b:00.1".
func isPCIAddress(name string) bool {
	parts := strings.Split(name, ":")
	if len(parts) != 3 {
		return false
	}
	dev, fn, ok := strings.Cut(parts[2], ".")
	if !ok {
		return false
	}
	return len(parts[0]) >= 4 && isHex(parts[0]) &&
		len(parts[1]) == 2 && isHex(parts[1]) &&
		len(dev) == 2 && isHex(dev) &&
		len(fn) == 1 && fn[0] >= '0' && fn[0] <= '7'
}

func isHex(s string) bool {
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return s != ""
}

// squeeze collapses runs of whitespace, because sysfs model and vendor
// strings are often padded to a fixed width (SCSI INQUIRY data, DMI).
func squeeze(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// isPlaceholder reports whether a firmware-provided string is one of the
// stock values vendors leave unset, which would make unrelated machines look
// identical if used as an identity.
func isPlaceholder(s string) bool {
	switch strings.ToLower(squeeze(s)) {
	case "", "0", "none", "n/a", "na", "unknown", "not specified", "not applicable",
		"not available", "to be filled by o.e.m.", "default string", "system serial number",
		"system product name", "system manufacturer", "0123456789", "123456789",
		"00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff",
		"03000200-0400-0500-0006-000700080009":
		return true
	}
	return false
}
