// Package cnftest packs the CNF test packages of package cnf for tests of
// the packages above it.
package cnftest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Dir is the directory of a test package of package cnf, e.g.
// Dir("helm", "app").
func Dir(elem ...string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(append([]string{filepath.Dir(file), "..", "testdata"}, elem...)...)
}

// HelmChart is the test Helm chart as a .tgz with the chart in app/, as
// `helm package` makes it.
func HelmChart(t testing.TB) []byte {
	t.Helper()
	return TarDir(t, Dir("helm", "app"), "app", nil)
}

// TarDir packs the files under dir into a .tgz below prefix; rewrite, when
// not nil, may change a file's content (name is relative to dir).
func TarDir(t testing.TB, dir, prefix string, rewrite func(name string, b []byte) []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if rewrite != nil {
			b = rewrite(rel, b)
		}
		if err := tw.WriteHeader(&tar.Header{Name: prefix + "/" + filepath.ToSlash(rel), Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err = tw.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
