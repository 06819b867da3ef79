package main

import (
	"path/filepath"
	"testing"
)

func TestProvisioningTemplatesDir(t *testing.T) {
	cases := []struct {
		name, flag, config, env, want string
	}{
		{"the flag wins", "/srv/templates", "/etc/o2ims/o2ims.yaml", "", "/srv/templates"},
		{"beside --config", "", "/etc/o2ims/o2ims.yaml", "/other/o2ims.yaml", filepath.Join("/etc/o2ims", "templates")},
		{"beside O2IMS_CONFIG", "", "", "/other/o2ims.yaml", filepath.Join("/other", "templates")},
		{"none", "", "", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			getenv := func(k string) string {
				if k == "O2IMS_CONFIG" {
					return c.env
				}
				return ""
			}
			if got := provisioningTemplatesDir(c.flag, c.config, getenv); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}
