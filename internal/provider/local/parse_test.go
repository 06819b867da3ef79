package local

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseCPUInfo(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		processors []map[string]string
		global     map[string]string
	}{
		{
			name:       "empty",
			in:         "",
			processors: nil,
			global:     map[string]string{},
		},
		{
			name: "x86 two processors without trailing blank line",
			in: "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Xeon\nflags\t\t: fpu ht\n\n" +
				"processor\t: 1\nvendor_id\t: GenuineIntel\nmodel name\t: Xeon\nflags\t\t: fpu ht",
			processors: []map[string]string{
				{"processor": "0", "vendor_id": "GenuineIntel", "model name": "Xeon", "flags": "fpu ht"},
				{"processor": "1", "vendor_id": "GenuineIntel", "model name": "Xeon", "flags": "fpu ht"},
			},
			global: map[string]string{},
		},
		{
			name: "arm with machine-wide trailer",
			in: "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd\nCPU implementer\t: 0x41\nCPU part\t: 0xd0c\n\n" +
				"Hardware\t: Fixture Board\nSerial\t\t: 00000000\n",
			processors: []map[string]string{
				{"processor": "0", "BogoMIPS": "50.00", "Features": "fp asimd", "CPU implementer": "0x41", "CPU part": "0xd0c"},
			},
			global: map[string]string{"Hardware": "Fixture Board", "Serial": "00000000"},
		},
		{
			name:       "empty value and value containing a colon",
			in:         "processor : 0\npower management:\naddress sizes : 46 bits: physical\n",
			processors: []map[string]string{{"processor": "0", "power management": "", "address sizes": "46 bits: physical"}},
			global:     map[string]string{},
		},
		{
			name:       "lines without a colon are ignored",
			in:         "processor : 0\ngarbage line\n",
			processors: []map[string]string{{"processor": "0"}},
			global:     map[string]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseCPUInfo(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.processors, tt.processors) {
				t.Errorf("processors = %#v, want %#v", got.processors, tt.processors)
			}
			if !reflect.DeepEqual(got.global, tt.global) {
				t.Errorf("global = %#v, want %#v", got.global, tt.global)
			}
		})
	}
}

func TestCPUInfoLookupFallsBackToGlobal(t *testing.T) {
	info := cpuInfo{global: map[string]string{"Hardware": "board", "model name": "global"}}
	proc := map[string]string{"model name": "own"}
	if got := info.lookup(proc, "model name"); got != "own" {
		t.Errorf("lookup(model name) = %q, want own", got)
	}
	if got := info.lookup(proc, "cpu model", "Hardware"); got != "board" {
		t.Errorf("lookup(cpu model, Hardware) = %q, want board", got)
	}
	if got := info.lookup(proc, "missing"); got != "" {
		t.Errorf("lookup(missing) = %q, want empty", got)
	}
}

func TestParseMeminfo(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]int64
	}{
		{name: "empty", in: "", want: map[string]int64{}},
		{
			name: "kB values are scaled, page counts are not",
			in:   "MemTotal:       16318412 kB\nMemAvailable:   12000000 kB\nHugePages_Total:       4\n",
			want: map[string]int64{"MemTotal": 16318412 * 1024, "MemAvailable": 12000000 * 1024, "HugePages_Total": 4},
		},
		{
			name: "malformed lines are skipped",
			in:   "MemTotal: lots kB\nMemFree:\nnonsense\nCached: 10 kB\n",
			want: map[string]int64{"Cached": 10240},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseMeminfo(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseMeminfo = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseOSRelease(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]string
	}{
		{name: "empty", in: "", want: map[string]string{}},
		{
			name: "double, single and no quotes",
			in:   "NAME=\"Debian GNU/Linux\"\nID=debian\nVERSION_CODENAME='bookworm'\n",
			want: map[string]string{"NAME": "Debian GNU/Linux", "ID": "debian", "VERSION_CODENAME": "bookworm"},
		},
		{
			name: "comments, blank lines and junk",
			in:   "# comment\n\n  PRETTY_NAME=\"Fixture 1\"  \nnot an assignment\n=novalue\nBAD KEY=x\n",
			want: map[string]string{"PRETTY_NAME": "Fixture 1"},
		},
		{
			name: "escapes inside double quotes",
			in:   `PRETTY_NAME="Say \"hi\" \\ \$HOME"` + "\n",
			want: map[string]string{"PRETTY_NAME": `Say "hi" \ $HOME`},
		},
		{
			name: "single quotes are literal",
			in:   `X='a\b'` + "\n",
			want: map[string]string{"X": `a\b`},
		},
		{
			name: "empty value",
			in:   "VARIANT=\nVARIANT_ID=\"\"\n",
			want: map[string]string{"VARIANT": "", "VARIANT_ID": ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseOSRelease(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseOSRelease = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseUptime(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"12345.67 23456.78", 12345, true},
		{"0.5 1", 0, true},
		{"", 0, false},
		{"abc 1", 0, false},
		{"-1 0", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseUptime(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseUptime(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestIsPCIAddress(t *testing.T) {
	tests := map[string]bool{
		"0000:00:1f.6":  true,
		"0000:3b:00.1":  true,
		"10000:00:00.0": true, // VMD domains have five digits
		"0000:00:1f.8":  false,
		"pci0000:00":    false,
		"virtio2":       false,
		"0000:00:1f":    false,
		"0000:0:1f.6":   false,
		"zzzz:00:1f.6":  false,
		"":              false,
	}
	for in, want := range tests {
		if got := isPCIAddress(in); got != want {
			t.Errorf("isPCIAddress(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestIsPlaceholder(t *testing.T) {
	tests := map[string]bool{
		"To Be Filled By O.E.M.": true,
		"  Not   Specified ":     true,
		"":                       true,
		"Default string":         true,
		"ABC1234":                false,
		"PowerEdge R750":         false,
	}
	for in, want := range tests {
		if got := isPlaceholder(in); got != want {
			t.Errorf("isPlaceholder(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestAssignKeys(t *testing.T) {
	tests := []struct {
		name      string
		preferred []string
		fallback  []string
		want      []string
	}{
		{
			name:      "unique preferred keys win",
			preferred: []string{"nic/aa", "nic/bb"},
			fallback:  []string{"nic/eth0", "nic/eth1"},
			want:      []string{"nic/aa", "nic/bb"},
		},
		{
			name:      "bond slaves sharing a MAC fall back to their names",
			preferred: []string{"nic/aa", "nic/aa", "nic/cc"},
			fallback:  []string{"nic/eth0", "nic/eth1", "nic/eth2"},
			want:      []string{"nic/eth0", "nic/eth1", "nic/cc"},
		},
		{
			name:      "missing preferred key",
			preferred: []string{"", "disk/S1"},
			fallback:  []string{"disk/sda", "disk/sdb"},
			want:      []string{"disk/sda", "disk/S1"},
		},
		{
			name:      "preferred key equal to another device's fallback",
			preferred: []string{"", "disk/sda"},
			fallback:  []string{"disk/sda", "disk/sdb"},
			want:      []string{"disk/sda", "disk/sdb"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := assignKeys(tt.preferred, tt.fallback); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("assignKeys = %q, want %q", got, tt.want)
			}
		})
	}
}
