// Package sqlstoretest gives tests a fresh, migrated store on each backend:
// SQLite in a temporary directory and PostgreSQL in a schema of its own.
package sqlstoretest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io"
	"log/slog"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/nephoran/o2ims/internal/sqlstore"
)

// EnvURL names the variable holding the PostgreSQL URL for tests. When it
// is set, an unreachable database fails the tests; when unset, the local
// default is tried and PostgreSQL tests are skipped if it does not answer.
const EnvURL = "O2IMS_TEST_DATABASE_URL"

const defaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Backend is a database a test runs against.
type Backend struct {
	Name string
	// Options opens a fresh, empty database of this backend for t.
	Options func(t testing.TB) sqlstore.Options
}

// Backends returns SQLite and PostgreSQL.
func Backends() []Backend {
	return []Backend{
		{Name: "sqlite", Options: func(t testing.TB) sqlstore.Options {
			return sqlstore.Options{DataDir: t.TempDir()}
		}},
		{Name: "postgres", Options: PostgresOptions},
	}
}

// Run runs f as a subtest once per backend.
func Run(t *testing.T, f func(t *testing.T, b Backend)) {
	for _, b := range Backends() {
		t.Run(b.Name, func(t *testing.T) { f(t, b) })
	}
}

// Open returns a migrated store of backend b, closed when the test ends.
func Open(t testing.TB, b Backend) *sqlstore.Store {
	t.Helper()
	ctx := context.Background()
	s, err := sqlstore.Open(ctx, b.Options(t), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("open %s store: %v", b.Name, err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s store: %v", b.Name, err)
	}
	return s
}

// PostgresURL returns the base URL of the test PostgreSQL server, failing
// or skipping t as EnvURL describes.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u, required := os.LookupEnv(EnvURL)
	if !required || u == "" {
		u, required = defaultURL, false
	}
	db, err := sql.Open("pgx", u)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = db.PingContext(ctx)
		cancel()
		db.Close()
	}
	if err != nil {
		if required {
			t.Fatalf("PostgreSQL at %s (from %s) is unreachable: %v", redact(u), EnvURL, err)
		}
		t.Skipf("PostgreSQL not reachable at %s and %s unset; set it to run the PostgreSQL tests: %v", redact(u), EnvURL, err)
	}
	return u
}

// PostgresOptions creates a schema of its own for t (dropped at cleanup)
// and returns options whose connections use it.
func PostgresOptions(t testing.TB) sqlstore.Options {
	t.Helper()
	base := PostgresURL(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		db.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		defer db.Close()
		if _, err := db.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return sqlstore.Options{URL: u.String()}
}

func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparseable URL)"
	}
	return p.Redacted()
}
