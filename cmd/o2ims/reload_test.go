package main

import (
	"errors"
	"testing"

	"github.com/spf13/pflag"
)

// A SIGHUP reads the log flags as a fresh start would: the command line,
// else the environment, else the configuration file, else the default.
func TestReloadedLogFlags(t *testing.T) {
	files := map[string]string{"/etc/o2ims.yaml": "log-level: warn\nlog-format: json\n"}
	readFile := func(p string) ([]byte, error) {
		if b, ok := files[p]; ok {
			return []byte(b), nil
		}
		return nil, errors.New("no such file")
	}
	for _, tc := range []struct {
		name          string
		args          []string
		env           map[string]string
		level, format string
		wantErr       bool
	}{
		{"defaults", nil, nil, "info", "text", false},
		{"file", []string{"--config", "/etc/o2ims.yaml"}, nil, "warn", "json", false},
		{"environment over file", []string{"--config", "/etc/o2ims.yaml"}, map[string]string{"O2IMS_LOG_LEVEL": "debug"}, "debug", "json", false},
		{"command line over all", []string{"--config", "/etc/o2ims.yaml", "--log-level", "error"}, map[string]string{"O2IMS_LOG_LEVEL": "debug"}, "error", "json", false},
		{"file from the environment", nil, map[string]string{"O2IMS_CONFIG": "/etc/o2ims.yaml"}, "warn", "json", false},
		{"missing file", []string{"--config", "/nope.yaml"}, nil, "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
			var c commonFlags
			c.register(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			level, format, err := reloadedLogFlags(fs, func(k string) string { return tc.env[k] }, readFile)
			if (err != nil) != tc.wantErr || level != tc.level || format != tc.format {
				t.Errorf("= %q, %q, %v; want %q, %q (error %v)", level, format, err, tc.level, tc.format, tc.wantErr)
			}
		})
	}
}
