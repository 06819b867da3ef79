package provider_test

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/inventory"
	"github.com/nephoran/o2ims/internal/provider"
	"github.com/nephoran/o2ims/internal/secrets"
	"github.com/nephoran/o2ims/internal/sqlstore"
	"github.com/nephoran/o2ims/internal/sqlstore/sqlstoretest"
)

// fakeProvider stands in for a cluster: the registry's rules do not need
// one, only something the factory builds.
type fakeProvider struct{ name string }

func (p fakeProvider) Name() string                                   { return p.name }
func (p fakeProvider) Discover(context.Context) (ims.Snapshot, error) { return ims.Snapshot{}, nil }

func TestRegistryRules(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) {
		ctx := context.Background()
		store := sqlstoretest.Open(t, b)
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		syncer := inventory.NewSyncer(store, nil, time.Hour, logger)
		var built []provider.Config
		factories := map[string]provider.Factory{"kubernetes": func(name string, cfg provider.Config) (inventory.Provider, error) {
			if strings.Contains(cfg.Kubeconfig, "broken") {
				return nil, ims.Errorf(ims.EINVALID, "kubeconfig: broken")
			}
			built = append(built, cfg)
			return fakeProvider{name}, nil
		}}
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		box, _ := secrets.NewBox(key)
		reg := provider.NewRegistry(store, syncer, factories, provider.Options{Box: box}, logger)
		if err := reg.AddStatic(fakeProvider{"local"}, "local", provider.OriginBuiltin, ""); err != nil {
			t.Fatal(err)
		}

		for _, c := range []struct {
			in   provider.Input
			code string
		}{
			{provider.Input{Name: "Bad Name", Type: "kubernetes", Config: provider.Config{Kubeconfig: "x"}}, ims.EINVALID},
			{provider.Input{Name: "c1", Type: "openstack", Config: provider.Config{Kubeconfig: "x"}}, ims.EINVALID},
			{provider.Input{Name: "c1", Type: "kubernetes"}, ims.EINVALID},
			{provider.Input{Name: "c1", Type: "kubernetes", Config: provider.Config{Kubeconfig: "x", KubeconfigPath: "/y"}}, ims.EINVALID},
			{provider.Input{Name: "c1", Type: "kubernetes", Config: provider.Config{Kubeconfig: "broken"}}, ims.EINVALID},
			{provider.Input{Name: "local", Type: "kubernetes", Config: provider.Config{Kubeconfig: "x"}}, ims.ECONFLICT},
		} {
			if _, err := reg.Create(ctx, c.in); ims.ErrorCode(err) != c.code {
				t.Errorf("%+v: %v, want %s", c.in, err, c.code)
			}
		}
		secret := "token: s3cr3t-value"
		r, err := reg.Create(ctx, provider.Input{Name: "c1", Type: "kubernetes", Config: provider.Config{Kubeconfig: secret, Context: "ctx"}})
		if err != nil {
			t.Fatal(err)
		}
		if r.Origin != provider.OriginAPI || r.ID == "" {
			t.Fatalf("registration %+v", r)
		}
		recs, err := store.ProviderRecords(ctx)
		if err != nil || len(recs) != 1 {
			t.Fatalf("records %v %v", recs, err)
		}
		if strings.Contains(recs[0].Config, "s3cr3t") || strings.Contains(string(recs[0].Doc), "s3cr3t") {
			t.Fatal("credentials stored in clear")
		}
		if err := reg.Delete(ctx, provider.StaticID("local")); ims.ErrorCode(err) != ims.ECONFLICT {
			t.Errorf("deleting the built-in provider: %v", err)
		}

		// A new registry (a restart) opens the sealed configuration.
		built = nil
		reg2 := provider.NewRegistry(store, inventory.NewSyncer(store, nil, time.Hour, logger), factories, provider.Options{Box: box}, logger)
		if err := reg2.Load(ctx); err != nil {
			t.Fatal(err)
		}
		if len(built) != 1 || built[0].Kubeconfig != secret || built[0].Context != "ctx" || !built[0].SelfContained {
			t.Fatalf("after restart the provider was built from %+v", built)
		}
		// Without the key the registration stays listed but is not started.
		reg3 := provider.NewRegistry(store, inventory.NewSyncer(store, nil, time.Hour, logger), factories, provider.Options{}, logger)
		built = nil
		if err := reg3.Load(ctx); err != nil {
			t.Fatal(err)
		}
		if len(built) != 0 || len(reg3.List()) != 1 {
			t.Fatalf("without the key: built %d, listed %d", len(built), len(reg3.List()))
		}
		if _, err := reg3.Create(ctx, provider.Input{Name: "c2", Type: "kubernetes", Config: provider.Config{Kubeconfig: "x"}}); ims.ErrorCode(err) != ims.EUNPROCESSABLE {
			t.Errorf("inline credentials without a key: %v", err)
		}

		if err := reg.Delete(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := reg.Get(r.ID); ims.ErrorCode(err) != ims.ENOTFOUND {
			t.Errorf("deleted provider still there: %v", err)
		}
		if recs, _ := store.ProviderRecords(ctx); len(recs) != 0 {
			t.Errorf("record outlived the provider")
		}
	})
}

// TestCredentialsDirectory: a provider registered through the API names
// a kubeconfig file only inside the credentials directory, and the
// answers tell nothing of what lies outside it.
func TestCredentialsDirectory(t *testing.T) {
	sqlstoretest.Run(t, func(t *testing.T, b sqlstoretest.Backend) { testCredentialsDirectory(t, sqlstoretest.Open(t, b)) })
}

func testCredentialsDirectory(t *testing.T, store *sqlstore.Store) {
	ctx := context.Background()
	logger := slog.New(slog.DiscardHandler)
	var built []provider.Config
	factories := map[string]provider.Factory{"kubernetes": func(name string, cfg provider.Config) (inventory.Provider, error) {
		built = append(built, cfg)
		return fakeProvider{name}, nil
	}}
	outside := t.TempDir()
	secretFile := filepath.Join(outside, "secret")
	if err := os.WriteFile(secretFile, []byte("token: outside"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "edge"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "edge", "cluster.yaml"), []byte("token: inside"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secretFile, filepath.Join(dir, "escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/", filepath.Join(dir, "rootlink")); err != nil {
		t.Fatal(err)
	}

	// Without a credentials directory the API takes no file names at all.
	none := provider.NewRegistry(store, inventory.NewSyncer(store, nil, time.Hour, logger), factories, provider.Options{}, logger)
	for _, p := range []string{"/etc/passwd", secretFile, "cluster.yaml"} {
		_, err := none.Create(ctx, provider.Input{Name: "p", Type: "kubernetes", Config: provider.Config{KubeconfigPath: p}})
		if ims.ErrorCode(err) != ims.EUNPROCESSABLE || !strings.Contains(err.Error(), "inline") {
			t.Errorf("kubeconfigPath %q without a credentials directory: %v", p, err)
		}
	}

	reg := provider.NewRegistry(store, inventory.NewSyncer(store, nil, time.Hour, logger), factories, provider.Options{CredentialsDir: dir}, logger)
	var refusals []string
	for _, p := range []string{"/etc/passwd", secretFile, "../" + filepath.Base(outside) + "/secret", "edge/../../x", "escape", "rootlink/etc/passwd", "missing.yaml", "edge", ""} {
		_, err := reg.Create(ctx, provider.Input{Name: "p", Type: "kubernetes", Config: provider.Config{KubeconfigPath: p}})
		if ims.ErrorCode(err) != ims.EINVALID {
			t.Errorf("kubeconfigPath %q: %v, want EINVALID", p, err)
			continue
		}
		refusals = append(refusals, strings.ReplaceAll(err.Error(), p, "NAME"))
	}
	// Every refusal reads the same: a missing file, a directory and a way
	// out are not told apart. (The empty name is "kubeconfig or
	// kubeconfigPath is required".)
	for _, r := range refusals[:len(refusals)-1] {
		if r != refusals[0] {
			t.Errorf("refusals differ: %q and %q", r, refusals[0])
		}
	}
	if len(built) != 0 {
		t.Fatalf("providers built from refused files: %+v", built)
	}
	if _, err := reg.Create(ctx, provider.Input{Name: "edge-1", Type: "kubernetes", Config: provider.Config{KubeconfigPath: "edge/cluster.yaml", Context: "c"}}); err != nil {
		t.Fatal(err)
	}
	if len(built) != 2 || built[0].Kubeconfig != "token: inside" || built[0].KubeconfigPath != "" || !built[0].SelfContained || built[0].Context != "c" {
		t.Fatalf("built from %+v", built)
	}
	// A restart reads the file again, through the directory.
	built = nil
	if err := os.WriteFile(filepath.Join(dir, "edge", "cluster.yaml"), []byte("token: rotated"), 0o600); err != nil {
		t.Fatal(err)
	}
	again := provider.NewRegistry(store, inventory.NewSyncer(store, nil, time.Hour, logger), factories, provider.Options{CredentialsDir: dir}, logger)
	if err := again.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if len(built) != 1 || built[0].Kubeconfig != "token: rotated" {
		t.Fatalf("after a restart built from %+v", built)
	}
}

// TestAWSRegistration: an aws registration through the API needs its
// region, VPC and an inline access key, which is stored sealed with the
// rest of its configuration and comes back whole after a restart.
func TestAWSRegistration(t *testing.T) {
	ctx := context.Background()
	store := sqlstoretest.Open(t, sqlstoretest.Backends()[0]) // the rules are the registry's; SQLite suffices
	logger := slog.New(slog.DiscardHandler)
	var built []provider.Config
	factories := map[string]provider.Factory{
		"aws": func(name string, cfg provider.Config) (inventory.Provider, error) {
			built = append(built, cfg)
			return fakeProvider{name}, nil
		},
		"kubernetes": func(name string, cfg provider.Config) (inventory.Provider, error) { return fakeProvider{name}, nil },
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	box, _ := secrets.NewBox(key)
	reg := provider.NewRegistry(store, inventory.NewSyncer(store, nil, time.Hour, logger), factories, provider.Options{Box: box}, logger)

	creds := &provider.AWSCredentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "s3cr3t-secret-key", SessionToken: "s3cr3t-session"}
	vpc := &provider.AWSVPC{VPCID: "vpc-0a1b2c3d4e5f67890", Subnets: []provider.AWSSubnet{{ID: "subnet-0aaaaaaaaaaaaaaa1", Zone: "us-east-1a", Type: "public"}}}
	full := provider.Config{
		Region: "us-east-1", Credentials: creds, VPC: vpc, Endpoint: "http://127.0.0.1:1",
		InstanceTypes: &provider.AWSInstanceTypes{Supported: []string{"m5.large"}, Default: "m5.large"},
		Tags:          &provider.AWSTags{Default: map[string]string{"ManagedBy": "o2ims"}},
		Capacity:      &provider.AWSCapacity{AWSBudget: provider.AWSBudget{VCPUs: 8, MemoryGiB: 32}, Zones: map[string]provider.AWSBudget{"us-east-1a": {VCPUs: 4, MemoryGiB: 16}}},
	}
	for _, c := range []struct {
		typ  string
		cfg  provider.Config
		want string
	}{
		{"aws", provider.Config{Credentials: creds, VPC: vpc}, "config.region: required"},
		{"aws", provider.Config{Region: "us-east-1", Credentials: creds}, "config.vpc.vpcId: required"},
		{"aws", provider.Config{Region: "us-east-1", VPC: vpc}, "config.credentials: accessKeyId and secretAccessKey are required for a provider registered through the API"},
		{"aws", provider.Config{Region: "us-east-1", VPC: vpc, Credentials: &provider.AWSCredentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE"}}, "config.credentials:"},
		{"aws", provider.Config{Region: "us-east-1", VPC: vpc, Credentials: creds, Kubeconfig: "x"}, "config: an aws provider takes region, credentials, vpc"},
		{"kubernetes", provider.Config{Kubeconfig: "x", Region: "us-east-1"}, "are for aws providers"},
	} {
		_, err := reg.Create(ctx, provider.Input{Name: "aws-1", Type: c.typ, Config: c.cfg})
		if ims.ErrorCode(err) != ims.EINVALID || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want 400 %q", c.cfg, err, c.want)
		}
	}
	noKey := provider.NewRegistry(store, inventory.NewSyncer(store, nil, time.Hour, logger), factories, provider.Options{}, logger)
	if _, err := noKey.Create(ctx, provider.Input{Name: "aws-1", Type: "aws", Config: full}); ims.ErrorCode(err) != ims.EUNPROCESSABLE || !strings.Contains(err.Error(), "secrets key") {
		t.Errorf("without a secrets key: %v", err)
	}
	if len(built) != 0 {
		t.Fatalf("refused registrations were built: %+v", built)
	}

	if _, err := reg.Create(ctx, provider.Input{Name: "aws-1", Type: "aws", Config: full}); err != nil {
		t.Fatal(err)
	}
	recs, err := store.ProviderRecords(ctx)
	if err != nil || len(recs) != 1 {
		t.Fatalf("records %v %v", recs, err)
	}
	if strings.Contains(recs[0].Config, "s3cr3t") || strings.Contains(string(recs[0].Doc), "s3cr3t") || strings.Contains(recs[0].Config, "vpc-") {
		t.Fatal("the configuration is stored in clear")
	}
	built = nil
	again := provider.NewRegistry(store, inventory.NewSyncer(store, nil, time.Hour, logger), factories, provider.Options{Box: box}, logger)
	if err := again.Load(ctx); err != nil {
		t.Fatal(err)
	}
	want := full
	want.SelfContained = true
	if len(built) != 1 || !reflect.DeepEqual(built[0], want) {
		t.Fatalf("after a restart built from %+v, want %+v", built, want)
	}
}
