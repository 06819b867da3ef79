package cnf

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/nephoran/o2ims/internal/ims"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// entry is one archive member built by the tests.
type entry struct {
	Name     string
	Data     []byte
	Type     byte // tar type flag; 0 means a regular file
	Linkname string
	Size     int64 // when not 0, the size written in the header
}

// readDir returns the files below dir as entries named prefix/<relative path>.
func readDir(t *testing.T, dir, prefix string) []entry {
	t.Helper()
	var out []entry
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		if prefix != "" {
			name = prefix + "/" + name
		}
		out = append(out, entry{Name: name, Data: data})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// replace returns entries with the data of the entry named name replaced
// (or added); nil data removes it.
func replace(entries []entry, name string, data []byte) []entry {
	var out []entry
	found := false
	for _, e := range entries {
		if e.Name == name {
			found = true
			if data == nil {
				continue
			}
			e.Data = data
		}
		out = append(out, e)
	}
	if !found && data != nil {
		out = append(out, entry{Name: name, Data: data})
	}
	return out
}

func tarGz(t testing.TB, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		hd := &tar.Header{Name: e.Name, Mode: 0o644, Typeflag: e.Type, Linkname: e.Linkname, Size: int64(len(e.Data))}
		if hd.Typeflag == 0 {
			hd.Typeflag = tar.TypeReg
		}
		if hd.Typeflag != tar.TypeReg {
			hd.Size = 0
		}
		if hd.Typeflag == tar.TypeDir {
			hd.Mode = 0o755
		}
		if err := tw.WriteHeader(hd); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.Data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func zipOf(t testing.TB, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		hd := &zip.FileHeader{Name: e.Name, Method: zip.Deflate}
		if e.Type == tar.TypeSymlink {
			hd.SetMode(fs.ModeSymlink | 0o777)
		} else {
			hd.SetMode(0o644)
		}
		w, err := zw.CreateHeader(hd)
		if err != nil {
			t.Fatal(err)
		}
		data := e.Data
		if e.Type == tar.TypeSymlink {
			data = []byte(e.Linkname)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// helmChart returns the test chart as a .tgz, built like `helm package`
// does, with the chart in a top-level directory.
func helmChart(t *testing.T) []byte {
	t.Helper()
	return tarGz(t, helmEntries(t))
}

func helmEntries(t *testing.T) []entry {
	t.Helper()
	return readDir(t, filepath.Join("testdata", "helm", "app"), "app")
}

func kptEntries(t *testing.T) []entry {
	t.Helper()
	return readDir(t, filepath.Join("testdata", "kpt", "app"), "kapp")
}

func kptPackageTgz(t *testing.T) []byte {
	t.Helper()
	return tarGz(t, kptEntries(t))
}

// wantCode fails the test unless err is an *ims.Error with code and a
// message containing every one of contains (case-insensitively).
func wantCode(t *testing.T, err error, code string, contains ...string) {
	t.Helper()
	var e *ims.Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *ims.Error %s", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("error code = %s (%v), want %s", e.Code, err, code)
	}
	for _, c := range contains {
		if !strings.Contains(strings.ToLower(e.Message), strings.ToLower(c)) {
			t.Errorf("error message %q does not contain %q", e.Message, c)
		}
	}
}

// find returns the object of kind and name, failing the test when absent.
func find(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	var have []string
	for _, o := range objs {
		have = append(have, o.GetKind()+"/"+o.GetName())
	}
	t.Fatalf("no %s %s among %v", kind, name, have)
	return nil
}

func nestedString(t *testing.T, o *unstructured.Unstructured, fields ...string) string {
	t.Helper()
	v, _, err := unstructured.NestedFieldNoCopy(o.Object, fields...)
	if err != nil {
		t.Fatalf("%s %s: %v", o.GetKind(), o.GetName(), err)
	}
	s, _ := v.(string)
	return s
}

func container(t *testing.T, o *unstructured.Unstructured, i int) map[string]any {
	t.Helper()
	cs, _, err := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
	if err != nil || len(cs) <= i {
		t.Fatalf("%s %s: containers: %v (%d)", o.GetKind(), o.GetName(), err, len(cs))
	}
	return cs[i].(map[string]any)
}
