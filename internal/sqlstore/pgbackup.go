package sqlstore

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// PostgreSQL databases are backed up and restored with PostgreSQL's own
// tools, pg_dump and pg_restore (the PostgreSQL client package): a
// custom-format dump is one consistent snapshot (pg_dump reads in a
// single repeatable-read transaction) while the server goes on writing,
// and a restore runs in one transaction, so it changes everything or
// nothing.

// pgTarget is what the tools need of a database URL: libpq does not know
// the search_path parameter the server's connections take, which names
// the schema to dump or restore instead.
type pgTarget struct {
	url    string // without search_path
	schema string // "" for the database's default
}

func parsePGTarget(raw string) (pgTarget, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return pgTarget{}, fmt.Errorf("not a postgres:// database URL")
	}
	q := u.Query()
	schema := q.Get("search_path")
	q.Del("search_path")
	u.RawQuery = q.Encode()
	if strings.ContainsAny(schema, ", ") {
		return pgTarget{}, fmt.Errorf("search_path %q: back up one schema at a time", schema)
	}
	return pgTarget{url: u.String(), schema: schema}, nil
}

// BackupPostgres writes a custom-format dump of the database (or of the
// URL's search_path schema) to path, which must not exist.
func BackupPostgres(ctx context.Context, databaseURL, path string) error {
	t, err := parsePGTarget(databaseURL)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("backup: %s exists; name a new file", path)
	}
	args := []string{"--format=custom", "--no-owner", "--no-privileges", "--file=" + path}
	if t.schema != "" {
		args = append(args, "--schema="+t.schema)
	}
	if _, err := runPGTool(ctx, "pg_dump", append(args, "--dbname="+t.url)...); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// RestorePostgres restores a dump of BackupPostgres into the database of
// databaseURL (replacing the objects it holds) and migrates it to the
// newest schema. A dump with a newer schema than this binary knows is
// refused before anything changes. The servers using the database must be
// stopped. It returns the dump's schema version and the version after
// migrating.
func RestorePostgres(ctx context.Context, from, databaseURL string, logger *slog.Logger) (restored, now int64, err error) {
	t, err := parsePGTarget(databaseURL)
	if err != nil {
		return 0, 0, fmt.Errorf("restore: %w", err)
	}
	if _, err := os.Stat(from); err != nil {
		return 0, 0, fmt.Errorf("restore: %w", err)
	}
	versions, err := runPGTool(ctx, "pg_restore", "--data-only", "--table=goose_db_version", "--file=-", from)
	if err != nil {
		return 0, 0, fmt.Errorf("restore: %s is not a dump of this server's database: %w", from, err)
	}
	restored, err = dumpedVersion(versions)
	if err != nil {
		return 0, 0, fmt.Errorf("restore: %s is not a dump of this server's database: %w", from, err)
	}
	latest := LatestVersion()
	if restored > latest {
		return restored, 0, fmt.Errorf("restore: the backup has schema version %d, newer than this binary's %d; restore it with a newer o2ims", restored, latest)
	}
	args := []string{"--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error", "--dbname=" + t.url, from}
	if _, err := runPGTool(ctx, "pg_restore", args...); err != nil {
		return restored, 0, fmt.Errorf("restore: %w", err)
	}
	now, err = migrateRestored(ctx, Options{URL: databaseURL}, logger)
	return restored, now, err
}

// LatestVersion is the newest schema version this binary migrates to.
func LatestVersion() int64 {
	entries, _ := fs.ReadDir(migrations, "migrations/postgres")
	var latest int64
	for _, e := range entries {
		num, _, _ := strings.Cut(e.Name(), "_")
		if n, err := strconv.ParseInt(num, 10, 64); err == nil {
			latest = max(latest, n)
		}
	}
	return latest
}

// dumpedVersion reads the newest applied migration from the plain-text
// COPY of goose_db_version that pg_restore prints (id, version_id,
// is_applied, tstamp, tab-separated).
func dumpedVersion(sql []byte) (int64, error) {
	var v int64 = -1
	inCopy := false
	sc := bufio.NewScanner(bytes.NewReader(sql))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "COPY ") && strings.Contains(line, "goose_db_version"):
			inCopy = true
		case inCopy && line == `\.`:
			inCopy = false
		case inCopy:
			f := strings.Split(line, "\t")
			if len(f) < 3 {
				return 0, errors.New("unexpected goose_db_version row")
			}
			n, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return 0, errors.New("unexpected goose_db_version row")
			}
			if f[2] == "t" && n > v {
				v = n
			}
		}
	}
	if v < 0 {
		return 0, errors.New("no schema version in the dump")
	}
	return v, nil
}

// runPGTool runs a PostgreSQL client tool and returns its standard output.
func runPGTool(ctx context.Context, tool string, args ...string) ([]byte, error) {
	path, err := exec.LookPath(tool)
	if err != nil {
		return nil, fmt.Errorf("%s not found: install the PostgreSQL client tools (%s of the server's major version or newer)", tool, tool)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		return nil, fmt.Errorf("%s: %w: %s", tool, err, redactURL(msg))
	}
	return stdout.Bytes(), nil
}
