package sqlstore

import "testing"

func TestDumpedVersion(t *testing.T) {
	for _, tc := range []struct {
		name, sql string
		want      int64
		wantErr   bool
	}{
		{"applied rows", "SET x;\nCOPY t_ab.goose_db_version (id, version_id, is_applied, tstamp) FROM stdin;\n1\t0\tt\t2026-01-01\n2\t9\tt\t2026-01-01\n3\t10\tt\t2026-01-01\n\\.\n", 10, false},
		{"a rolled-back migration does not count", "COPY goose_db_version (id, version_id, is_applied, tstamp) FROM stdin;\n1\t3\tt\tx\n2\t4\tf\tx\n\\.\n", 3, false},
		{"no table", "SET x;\n", 0, true},
		{"garbage row", "COPY goose_db_version (id, version_id) FROM stdin;\nnope\n\\.\n", 0, true},
	} {
		got, err := dumpedVersion([]byte(tc.sql))
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("%s: %d, %v; want %d (error %v)", tc.name, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestParsePGTarget(t *testing.T) {
	got, err := parsePGTarget("postgres://u@db:5432/o2?sslmode=disable&search_path=t_1")
	if err != nil || got.schema != "t_1" || got.url != "postgres://u@db:5432/o2?sslmode=disable" {
		t.Errorf("= %+v, %v", got, err)
	}
	for _, bad := range []string{"sqlite:x.db", "postgres://db/o2?search_path=a,b"} {
		if _, err := parsePGTarget(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if LatestVersion() < 10 {
		t.Errorf("LatestVersion = %d", LatestVersion())
	}
}
