// Package sqlstore persists the O2 IMS state in SQLite (the embedded default)
// or PostgreSQL. Both share one implementation over database/sql; SQL that
// differs between them is chosen by the query.Dialect. Migrations are
// embedded and versioned.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/nephoran/o2ims/internal/query"
)

//go:embed migrations
var migrations embed.FS

// Options selects and configures the database.
type Options struct {
	// URL selects PostgreSQL when it starts with postgres:// or postgresql://.
	// When empty, SQLite is used in DataDir.
	URL string
	// DataDir holds the SQLite database file (o2ims.db). It is created if missing.
	DataDir string
	// MaxOpenConns bounds the connection pool; 0 picks a default per backend.
	MaxOpenConns int
}

// Store is the persistent O2 IMS state.
type Store struct {
	db      *sql.DB
	dialect query.Dialect
	logger  *slog.Logger
	url     string // of a PostgreSQL database, for its tools
	// gets holds the prepared statements of Get by query text (SQLite;
	// pgx prepares and caches statements itself): SQLite would otherwise
	// parse and plan the statement again for every single-object read.
	gets sync.Map
}

// Open connects to the database selected by opts. It does not migrate; call
// Migrate before use.
func Open(ctx context.Context, opts Options, logger *slog.Logger) (*Store, error) {
	var (
		db      *sql.DB
		dialect query.Dialect
		err     error
	)
	switch {
	case strings.HasPrefix(opts.URL, "postgres://"), strings.HasPrefix(opts.URL, "postgresql://"):
		dialect = query.Postgres
		db, err = sql.Open("pgx", opts.URL)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		n := opts.MaxOpenConns
		if n == 0 {
			n = 16
		}
		db.SetMaxOpenConns(n)
		db.SetMaxIdleConns(n)

	case opts.URL == "" || strings.HasPrefix(opts.URL, "sqlite:") || strings.HasPrefix(opts.URL, "file:"):
		dialect = query.SQLite
		path := strings.TrimPrefix(strings.TrimPrefix(opts.URL, "sqlite:"), "file:")
		if path == "" {
			dir := opts.DataDir
			if dir == "" {
				dir = "data"
			}
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("create data dir: %w", err)
			}
			path = filepath.Join(dir, "o2ims.db")
		}
		// WAL lets readers proceed while a writer commits; IMMEDIATE
		// transactions take the write lock up front so concurrent writers
		// wait on busy_timeout instead of failing with SQLITE_BUSY mid-way.
		dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_txlock=immediate"
		db, err = sql.Open("sqlite", dsn)
		if err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		n := opts.MaxOpenConns
		if n == 0 {
			n = 8
		}
		db.SetMaxOpenConns(n)
		db.SetMaxIdleConns(n)
	default:
		return nil, fmt.Errorf("unsupported database URL scheme in %q: use postgres:// or leave empty for SQLite", redactURL(opts.URL))
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return &Store{db: db, dialect: dialect, logger: logger, url: opts.URL}, nil
}

// Close releases the database connections.
func (s *Store) Close() error {
	s.gets.Range(func(_, v any) bool {
		_ = v.(*sql.Stmt).Close()
		return true
	})
	return s.db.Close()
}

// Dialect tells which SQL dialect the store speaks.
func (s *Store) Dialect() query.Dialect { return s.dialect }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

func (s *Store) migrator() (*goose.Provider, error) {
	var (
		dialect goose.Dialect
		dir     string
		opts    = []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	)
	switch s.dialect {
	case query.Postgres:
		dialect, dir = goose.DialectPostgres, "migrations/postgres"
		// Several server processes may start at once against one database.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, fmt.Errorf("migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	default:
		dialect, dir = goose.DialectSQLite3, "migrations/sqlite"
	}
	fsys, err := fs.Sub(migrations, dir)
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(dialect, s.db, fsys, opts...)
}

// Migrate applies every pending migration.
func (s *Store) Migrate(ctx context.Context) error {
	p, err := s.migrator()
	if err != nil {
		return err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, r := range res {
		s.logger.Info("applied migration", "version", r.Source.Version, "path", r.Source.Path, "duration", r.Duration)
	}
	return nil
}

// MigrateTo moves the schema up or down to exactly version (0 removes
// everything).
func (s *Store) MigrateTo(ctx context.Context, version int64) error {
	p, err := s.migrator()
	if err != nil {
		return err
	}
	cur, err := p.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	var known bool
	for _, src := range p.ListSources() {
		if src.Version == version {
			known = true
		}
	}
	if version != 0 && !known {
		return fmt.Errorf("no migration with version %d", version)
	}
	switch {
	case version > cur:
		_, err = p.UpTo(ctx, version)
	case version < cur:
		_, err = p.DownTo(ctx, version)
	}
	if err != nil {
		return fmt.Errorf("migrate from %d to %d: %w", cur, version, err)
	}
	return nil
}

// SchemaVersion returns the applied schema version and the newest one the
// binary knows.
func (s *Store) SchemaVersion(ctx context.Context) (current, latest int64, err error) {
	p, err := s.migrator()
	if err != nil {
		return 0, 0, err
	}
	current, err = p.GetDBVersion(ctx)
	if err != nil {
		return 0, 0, err
	}
	for _, src := range p.ListSources() {
		latest = max(latest, src.Version)
	}
	return current, latest, nil
}

// redactURL removes a password from a database URL so it can be logged.
func redactURL(u string) string {
	at := strings.LastIndex(u, "@")
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return u
	}
	userinfo := u[scheme+3 : at]
	if i := strings.Index(userinfo, ":"); i >= 0 {
		return u[:scheme+3] + userinfo[:i] + ":***" + u[at:]
	}
	return u
}

var errNoRows = sql.ErrNoRows

func isNoRows(err error) bool { return errors.Is(err, errNoRows) }

// Backup writes a consistent copy of the embedded SQLite database to path
// (VACUUM INTO), while the server may go on writing. path must not exist.
// A PostgreSQL database is dumped with pg_dump instead (BackupPostgres).
func (s *Store) Backup(ctx context.Context, path string) error {
	if s.dialect != query.SQLite {
		return BackupPostgres(ctx, s.url, path)
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("backup: %s exists; name a new file", path)
	}
	if _, err := s.db.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	return nil
}

// RestoreSQLite makes the backup at from the SQLite database of dataDir
// and migrates it to the newest schema; a backup with a newer schema than
// this binary knows is refused and nothing changes. The server using
// dataDir must be stopped. It returns the backup's schema version and the
// version after migrating.
func RestoreSQLite(ctx context.Context, from, dataDir string, logger *slog.Logger) (restored, now int64, err error) {
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		return 0, 0, fmt.Errorf("restore: %w", err)
	}
	target := filepath.Join(dataDir, "o2ims.db")
	staged := target + ".restoring"
	_ = os.Remove(staged)
	if err := copyFile(from, staged); err != nil {
		return 0, 0, fmt.Errorf("restore: %w", err)
	}
	defer os.Remove(staged)
	defer os.Remove(staged + "-wal")
	defer os.Remove(staged + "-shm")
	b, err := Open(ctx, Options{URL: "sqlite:" + staged}, logger)
	if err != nil {
		return 0, 0, fmt.Errorf("restore: %s is not a database of this server: %w", from, err)
	}
	restored, latest, err := b.SchemaVersion(ctx)
	b.Close()
	if err != nil {
		return 0, 0, fmt.Errorf("restore: %s is not a database of this server: %w", from, err)
	}
	if restored > latest {
		return restored, 0, fmt.Errorf("restore: the backup has schema version %d, newer than this binary's %d; restore it with a newer o2ims", restored, latest)
	}
	for _, f := range []string{target + "-wal", target + "-shm"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return 0, 0, fmt.Errorf("restore: %w", err)
		}
	}
	if err := os.Rename(staged, target); err != nil {
		return 0, 0, fmt.Errorf("restore: %w", err)
	}
	now, err = migrateRestored(ctx, Options{DataDir: dataDir}, logger)
	return restored, now, err
}

// migrateRestored migrates a restored database to the newest schema and
// returns its version.
func migrateRestored(ctx context.Context, opts Options, logger *slog.Logger) (int64, error) {
	s, err := Open(ctx, opts, logger)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		return 0, err
	}
	now, _, err := s.SchemaVersion(ctx)
	return now, err
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
