package kpt

import (
	"bytes"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/nephoran/o2ims/internal/ims"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// readDir returns the files under dir, by slash-separated relative path.
func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		files[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// checkGolden compares files with the golden directory testdata/golden/name,
// or rewrites it with -update.
func checkGolden(t *testing.T, name string, files map[string][]byte) {
	t.Helper()
	dir := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		for p, data := range files {
			full := filepath.Join(dir, filepath.FromSlash(p))
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(full, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	want := readDir(t, dir)
	var names []string
	for p := range files {
		names = append(names, p)
	}
	for p := range want {
		if _, ok := files[p]; !ok {
			names = append(names, p)
		}
	}
	sort.Strings(names)
	for _, p := range names {
		got, ok := files[p]
		w, wok := want[p]
		switch {
		case !ok:
			t.Errorf("%s: file %s is missing", name, p)
		case !wok:
			t.Errorf("%s: unexpected file %s:\n%s", name, p, got)
		case !bytes.Equal(got, w):
			t.Errorf("%s: %s differs (run go test -update to rewrite, then review):\n--- got\n%s\n--- want\n%s", name, p, got, w)
		}
	}
}

// pkgFiles turns "path: content" pairs into package files.
func pkgFiles(pairs ...string) map[string][]byte {
	files := map[string][]byte{}
	for i := 0; i+1 < len(pairs); i += 2 {
		files[pairs[i]] = []byte(strings.TrimLeft(pairs[i+1], "\n"))
	}
	return files
}

// wantInvalid checks that err is EINVALID and that its message holds every
// part.
func wantInvalid(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one with %q", parts)
	}
	if code := ims.ErrorCode(err); code != ims.EINVALID {
		t.Fatalf("code %q (%v); want %q", code, err, ims.EINVALID)
	}
	msg := ims.ErrorMessage(err)
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Errorf("message %q does not contain %q", msg, p)
		}
	}
}

// mustRender loads, renders and returns the files of a package.
func mustRender(t *testing.T, files map[string][]byte) *Package {
	t.Helper()
	p, err := Load(files)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if err := p.Render(t.Context()); err != nil {
		t.Fatalf("Render: %v", err)
	}
	return p
}

func mustFiles(t *testing.T, p *Package) map[string][]byte {
	t.Helper()
	files, err := p.Files()
	if err != nil {
		t.Fatal(err)
	}
	// What Files writes must load again.
	if _, err := Load(files); err != nil {
		t.Fatalf("the written package does not load: %v", err)
	}
	return files
}
