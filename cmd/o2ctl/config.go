package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"

	o2 "github.com/nephoran/o2ims/pkg/client"
)

// configFile is the o2ctl configuration file: named contexts, each an IMS
// and how to reach it, and the one used by default.
//
//	current-context: lab
//	contexts:
//	- name: lab
//	  endpoint: https://ims.lab.example.net
//	  auth:
//	    type: oauth2          # none, bearer or oauth2
//	    token-url: https://sso.lab.example.net/token
//	    client-id: smo
//	    client-secret: s3cret
//	    scopes: [o2ims:read]
//	  tls:
//	    ca-file: lab-ca.pem   # relative to the configuration file
type configFile struct {
	CurrentContext string         `json:"current-context,omitempty"`
	Contexts       []contextEntry `json:"contexts,omitempty"`
}

// contextEntry is one named context of the configuration file.
type contextEntry struct {
	Name     string     `json:"name"`
	Endpoint string     `json:"endpoint,omitempty"`
	Auth     *authEntry `json:"auth,omitempty"`
	TLS      *tlsEntry  `json:"tls,omitempty"`
}

// authEntry is the authentication of a context. An empty type is inferred:
// oauth2 when token-url is set, bearer when token is set, none otherwise.
type authEntry struct {
	Type         string   `json:"type,omitempty"`
	Token        string   `json:"token,omitempty"`
	TokenURL     string   `json:"token-url,omitempty"`
	ClientID     string   `json:"client-id,omitempty"`
	ClientSecret string   `json:"client-secret,omitempty"`
	Scopes       []string `json:"scopes,omitempty"`
}

// tlsEntry is the TLS configuration of a context. Relative file names are
// relative to the directory of the configuration file.
type tlsEntry struct {
	CAFile             string `json:"ca-file,omitempty"`
	CertFile           string `json:"cert-file,omitempty"`
	KeyFile            string `json:"key-file,omitempty"`
	InsecureSkipVerify bool   `json:"insecure-skip-verify,omitempty"`
	ServerName         string `json:"server-name,omitempty"`
}

// isZero reports whether e sets nothing.
func (e *authEntry) isZero() bool {
	return e.Type == "" && e.Token == "" && e.TokenURL == "" && e.ClientID == "" &&
		e.ClientSecret == "" && len(e.Scopes) == 0
}

// find returns the context called name, or nil.
func (f *configFile) find(name string) *contextEntry {
	for i := range f.Contexts {
		if f.Contexts[i].Name == name {
			return &f.Contexts[i]
		}
	}
	return nil
}

// configFilePath returns the configuration file to use: --config,
// $O2CTL_CONFIG, $XDG_CONFIG_HOME/o2ctl/config.yaml or
// ~/.config/o2ctl/config.yaml.
func (a *app) configFilePath() (string, error) {
	if a.configPath != "" {
		return a.configPath, nil
	}
	if p := a.getenv(envConfig); p != "" {
		return p, nil
	}
	if x := a.getenv("XDG_CONFIG_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "o2ctl", "config.yaml"), nil
	}
	home := a.getenv("HOME")
	if home == "" {
		var err error
		if home, err = os.UserHomeDir(); err != nil {
			return "", fmt.Errorf("cannot locate the configuration file: %w; use --config", err)
		}
	}
	return filepath.Join(home, ".config", "o2ctl", "config.yaml"), nil
}

// loadConfig reads the configuration file; a missing file is an empty
// configuration.
func (a *app) loadConfig() (*configFile, string, error) {
	path, err := a.configFilePath()
	if err != nil {
		return nil, "", err
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &configFile{}, path, nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("reading configuration: %w", err)
	}
	var cf configFile
	if err := yaml.UnmarshalStrict(data, &cf); err != nil {
		return nil, "", fmt.Errorf("configuration file %s: %w", path, err)
	}
	seen := map[string]bool{}
	for _, c := range cf.Contexts {
		if c.Name == "" {
			return nil, "", fmt.Errorf("configuration file %s: a context has no name", path)
		}
		if seen[c.Name] {
			return nil, "", fmt.Errorf("configuration file %s: context %q is defined twice", path, c.Name)
		}
		seen[c.Name] = true
	}
	return &cf, path, nil
}

// saveConfig writes cf to path with owner-only permissions, replacing the
// file atomically: it may hold credentials.
func saveConfig(cf *configFile, path string) error {
	data, err := yaml.Marshal(cf)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("writing configuration: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".config-*.yaml")
	if err != nil {
		return fmt.Errorf("writing configuration: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing configuration: %w", err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("writing configuration: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing configuration: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing configuration: %w", err)
	}
	return nil
}

// first returns the first non-empty value.
func first(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// clientConfig resolves the SDK configuration: each setting from its flag,
// else its environment variable, else the selected context.
func (a *app) clientConfig() (*o2.Config, error) {
	cf, path, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	var entry *contextEntry
	if name := first(a.contextName, a.getenv(envContext), cf.CurrentContext); name != "" {
		if entry = cf.find(name); entry == nil {
			return nil, fmt.Errorf("context %q is not defined in %s", name, path)
		}
	}
	if entry == nil {
		entry = &contextEntry{}
	}
	cfg := &o2.Config{
		Endpoint:  first(a.endpoint, a.getenv(envEndpoint), entry.Endpoint),
		Timeout:   a.timeout,
		UserAgent: "o2ctl/" + clientVersion(),
	}
	if cfg.Endpoint == "" {
		return nil, &usageError{fmt.Errorf("no IMS endpoint: use --endpoint, $%s, or a context (o2ctl config set-context NAME --endpoint URL)", envEndpoint)}
	}
	if tok := first(a.token, a.getenv(envToken)); tok != "" {
		cfg.Authentication = &o2.AuthConfig{Type: o2.AuthBearer, Token: tok}
	} else if entry.Auth != nil {
		if cfg.Authentication, err = entry.Auth.sdk(); err != nil {
			return nil, fmt.Errorf("context %q: %w", entry.Name, err)
		}
	}
	if entry.TLS != nil {
		t := entry.TLS
		cfg.TLS = &o2.TLSConfig{
			CAFile:             relativeTo(path, t.CAFile),
			CertFile:           relativeTo(path, t.CertFile),
			KeyFile:            relativeTo(path, t.KeyFile),
			InsecureSkipVerify: t.InsecureSkipVerify,
			ServerName:         t.ServerName,
		}
	}
	if a.insecure {
		if cfg.TLS == nil {
			cfg.TLS = &o2.TLSConfig{}
		}
		cfg.TLS.InsecureSkipVerify = true
	}
	return cfg, nil
}

// sdk returns the SDK authentication of e.
func (e *authEntry) sdk() (*o2.AuthConfig, error) {
	typ := strings.ToLower(e.Type)
	if typ == "" {
		switch {
		case e.TokenURL != "":
			typ = string(o2.AuthOAuth2)
		case e.Token != "":
			typ = string(o2.AuthBearer)
		default:
			typ = string(o2.AuthNone)
		}
	}
	switch o2.AuthType(typ) {
	case o2.AuthNone:
		return nil, nil
	case o2.AuthBearer:
		return &o2.AuthConfig{Type: o2.AuthBearer, Token: e.Token}, nil
	case o2.AuthOAuth2:
		return &o2.AuthConfig{Type: o2.AuthOAuth2, OAuth2: &o2.OAuth2Config{
			TokenURL:     e.TokenURL,
			ClientID:     e.ClientID,
			ClientSecret: e.ClientSecret,
			Scopes:       e.Scopes,
		}}, nil
	}
	return nil, fmt.Errorf("unknown auth type %q (want none, bearer or oauth2)", e.Type)
}

// relativeTo returns name resolved against the directory of the
// configuration file at configPath, or name itself when it is empty or
// absolute.
func relativeTo(configPath, name string) string {
	if name == "" || filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(filepath.Dir(configPath), name)
}
