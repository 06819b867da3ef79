package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	o2 "github.com/nephoran/o2ims/pkg/client"
)

func TestExitCode(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{nil, exitOK},
		{errors.New("x"), exitError},
		{&usageError{errors.New("x")}, exitError},
		{fmt.Errorf("get: %w", &o2.ProblemError{Status: 404}), exitNotFound},
		{&o2.ProblemError{Status: 400}, exitError},
		{&o2.ProblemError{Status: 401}, exitAuth},
		{&o2.ProblemError{Status: 403}, exitAuth},
		{&o2.ProblemError{Status: 500}, exitUnavailable},
		{&o2.ProblemError{Status: 503}, exitUnavailable},
		{&o2.ProblemError{Status: 409}, exitConflict},
		{fmt.Errorf("acknowledging: %w", &o2.ProblemError{Status: 409}), exitConflict},
		{&url.Error{Op: "Get", URL: "http://x", Err: errors.New("connection refused")}, exitUnavailable},
		{context.DeadlineExceeded, exitUnavailable},
		{&os.PathError{Op: "open", Path: "ca.pem", Err: os.ErrNotExist}, exitError},
	}
	for _, c := range cases {
		if got := exitCode(c.err); got != c.want {
			t.Errorf("exitCode(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}

func TestLabel(t *testing.T) {
	cases := map[string]string{
		"resourcePoolId":      "Resource Pool ID",
		"oCloudId":            "O-Cloud ID",
		"serviceUri":          "Service URI",
		"name":                "Name",
		"supportedLocations":  "Supported Locations",
		"globalAssetId":       "Global Asset ID",
		"alarmDefinitionID":   "Alarm Definition ID",
		"resourceTypeID":      "Resource Type ID",
		"globalCloudID":       "Global Cloud ID",
		"pkNotificationField": "PK Notification Field",
		"alarmEventRecordId":  "Alarm Event Record ID",
		"callbackURLPath":     "Callback URL Path",
		"retentionPeriod":     "Retention Period",
		"cnfInstanceId":       "CNF Instance ID",
		"vnfdInfo":            "VNFD Info",
		"vnfInstanceName":     "VNF Instance Name",
	}
	for in, want := range cases {
		if got := label(in); got != want {
			t.Errorf("label(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDescribeRendering(t *testing.T) {
	var buf bytes.Buffer
	r := o2.Resource{
		ResourceID: "r1", Description: "Host", Tags: []string{"host", "x"},
		Extensions: map[string]any{"sizeBytes": float64(274877906944), "nested": map[string]any{"b": true}},
		Elements:   []o2.Resource{{ResourceID: "e1"}, {ResourceID: "e2"}},
	}
	if err := describe(&buf, r, []string{"resourceId", "description"}); err != nil {
		t.Fatal(err)
	}
	want := `Resource ID:       r1
Description:       Host
Elements:
  Resource ID:       e1
  Resource Pool ID:  <none>
  Resource Type ID:  <none>

  Resource ID:       e2
  Resource Pool ID:  <none>
  Resource Type ID:  <none>
Extensions:
  nested:
    b:  true
  sizeBytes:  274877906944
Resource Pool ID:  <none>
Resource Type ID:  <none>
Tags:              host, x
`
	if buf.String() != want {
		t.Errorf("describe:\n%s\nwant:\n%s", buf.String(), want)
	}
}

func TestClientConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	data := `current-context: a
contexts:
- name: a
  endpoint: http://a
  auth: {type: oauth2, token-url: http://sso/token, client-id: id, client-secret: s, scopes: [o2ims:read]}
  tls: {ca-file: ca.pem, server-name: ims}
- name: b
  endpoint: http://b
  auth: {token: from-file}
`
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	resolve := func(env map[string]string, mod func(*app)) (*o2.Config, error) {
		a := &app{getenv: func(k string) string { return env[k] }, configPath: path}
		if mod != nil {
			mod(a)
		}
		return a.clientConfig()
	}
	cfg, err := resolve(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Endpoint != "http://a" || cfg.Authentication.Type != o2.AuthOAuth2 ||
		cfg.Authentication.OAuth2.ClientID != "id" || cfg.TLS.CAFile != filepath.Join(dir, "ca.pem") || cfg.TLS.ServerName != "ims" {
		t.Errorf("current context: %+v %+v", cfg, cfg.Authentication)
	}
	cfg, _ = resolve(map[string]string{envContext: "b"}, nil)
	if cfg.Endpoint != "http://b" || cfg.Authentication.Type != o2.AuthBearer || cfg.Authentication.Token != "from-file" {
		t.Errorf("env context: %+v", cfg)
	}
	cfg, _ = resolve(map[string]string{envContext: "b"}, func(a *app) { a.contextName = "a" })
	if cfg.Endpoint != "http://a" {
		t.Errorf("flag context: %+v", cfg)
	}
	cfg, _ = resolve(map[string]string{envEndpoint: "http://env", envToken: "env-token"}, nil)
	if cfg.Endpoint != "http://env" || cfg.Authentication.Type != o2.AuthBearer || cfg.Authentication.Token != "env-token" {
		t.Errorf("env endpoint and token: %+v %+v", cfg, cfg.Authentication)
	}
	cfg, _ = resolve(map[string]string{envEndpoint: "http://env", envToken: "env-token"}, func(a *app) {
		a.endpoint, a.token, a.insecure = "http://flag", "flag-token", true
	})
	if cfg.Endpoint != "http://flag" || cfg.Authentication.Token != "flag-token" || !cfg.TLS.InsecureSkipVerify {
		t.Errorf("flags: %+v %+v", cfg, cfg.Authentication)
	}
	if _, err := resolve(nil, func(a *app) { a.contextName = "zzz" }); err == nil || !strings.Contains(err.Error(), "zzz") {
		t.Errorf("unknown context: %v", err)
	}
}

func TestConfigFileLocation(t *testing.T) {
	cases := []struct {
		env  map[string]string
		flag string
		want string
	}{
		{map[string]string{"HOME": "/home/u"}, "", "/home/u/.config/o2ctl/config.yaml"},
		{map[string]string{"HOME": "/home/u", "XDG_CONFIG_HOME": "/xdg"}, "", "/xdg/o2ctl/config.yaml"},
		{map[string]string{"HOME": "/home/u", "XDG_CONFIG_HOME": "relative"}, "", "/home/u/.config/o2ctl/config.yaml"},
		{map[string]string{"HOME": "/home/u", "XDG_CONFIG_HOME": "/xdg", envConfig: "/env.yaml"}, "", "/env.yaml"},
		{map[string]string{"XDG_CONFIG_HOME": "/xdg", envConfig: "/env.yaml"}, "/flag.yaml", "/flag.yaml"},
	}
	for _, c := range cases {
		a := &app{getenv: func(k string) string { return c.env[k] }, configPath: c.flag}
		if got, err := a.configFilePath(); err != nil || got != c.want {
			t.Errorf("%v %q: %q %v, want %q", c.env, c.flag, got, err, c.want)
		}
	}
}

func TestInvalidConfigFile(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{
		"typo.yaml":    "contexts:\n- name: a\n  endpiont: http://a\n",
		"noname.yaml":  "contexts:\n- endpoint: http://a\n",
		"twice.yaml":   "contexts:\n- name: a\n- name: a\n",
		"badauth.yaml": "current-context: a\ncontexts:\n- name: a\n  endpoint: http://a\n  auth: {type: magic}\n",
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		a := &app{getenv: func(string) string { return "" }, configPath: path}
		if _, err := a.clientConfig(); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

func TestRunInProcess(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"get"}, &stdout, &stderr, func(string) string { return "" })
	if code != exitError || stdout.Len() != 0 || !strings.HasPrefix(stderr.String(), "o2ctl: a kind is required") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
}
