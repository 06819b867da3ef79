package cnf

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// file is one regular file of an unpacked package. Name is a clean,
// slash-separated path relative to the archive root.
type file struct {
	Name string
	Data []byte
}

// format is the container format of uploaded content, told by its first bytes.
type format int

const (
	formatYAML format = iota
	formatTarGz
	formatZip
)

func detect(content []byte) format {
	switch {
	case bytes.HasPrefix(content, []byte{0x1f, 0x8b}):
		return formatTarGz
	case bytes.HasPrefix(content, []byte("PK\x03\x04")), bytes.HasPrefix(content, []byte("PK\x05\x06")):
		return formatZip
	default:
		return formatYAML
	}
}

// budget tracks what an unpack may still consume. Nested Helm subchart
// archives share their parent's budget, so nesting cannot multiply it.
type budget struct {
	bytes   int64
	files   int
	entries int
}

func newBudget() *budget {
	return &budget{bytes: MaxContentSize, files: MaxFiles, entries: maxEntries}
}

// take reserves one entry, and one file of size n when isFile.
func (b *budget) take(name string, n int64, isFile bool) error {
	b.entries--
	if b.entries < 0 {
		return invalid("archive has more than %d entries", maxEntries)
	}
	if !isFile {
		return nil
	}
	b.files--
	if b.files < 0 {
		return invalid("package has more than %d files", MaxFiles)
	}
	if n < 0 || n > b.bytes {
		return invalid("file %q exceeds the unpacked size limit of %d bytes", name, MaxContentSize)
	}
	b.bytes -= n
	return nil
}

// cleanPath validates an archive entry name and returns it cleaned. Names
// must be relative and stay inside the archive: unpacked packages are only
// ever held in memory here, but other tools (and later versions of this
// code) may write them to disk, and a package that tries to escape is
// hostile anyway.
func cleanPath(name string) (string, error) {
	switch {
	case name == "":
		return "", invalid("archive entry with an empty name")
	case strings.ContainsRune(name, 0):
		return "", invalid("archive entry name contains a NUL byte")
	case strings.ContainsRune(name, '\\'):
		return "", invalid("archive entry %q contains a backslash", name)
	case strings.HasPrefix(name, "/"):
		return "", invalid("archive entry %q has an absolute path", name)
	case len(name) >= 2 && name[1] == ':':
		return "", invalid("archive entry %q has a drive-letter path", name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", invalid("archive entry %q refers to a parent directory", name)
		}
	}
	clean := path.Clean(name)
	if clean == "." {
		return "", invalid("archive entry %q names the archive root", name)
	}
	return clean, nil
}

// unpack returns the regular files of a .tgz or .zip archive, in name order.
func unpack(content []byte, b *budget) ([]file, error) {
	var files []file
	var err error
	switch detect(content) {
	case formatTarGz:
		files, err = untar(content, b)
	case formatZip:
		files, err = unzip(content, b)
	default:
		return nil, invalid("content is neither a gzip-compressed tar archive nor a zip archive")
	}
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, invalid("archive holds no files")
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	for i := 1; i < len(files); i++ {
		if files[i].Name == files[i-1].Name {
			return nil, invalid("archive holds %q more than once", files[i].Name)
		}
	}
	return files, nil
}

func untar(content []byte, b *budget) ([]file, error) {
	zr, err := gzip.NewReader(bytes.NewReader(content))
	if err != nil {
		return nil, invalid("not a valid gzip stream: %v", err)
	}
	defer zr.Close()
	// Besides file contents, tar streams hold headers and padding; bounding
	// the whole decompressed stream stops zip bombs made of either.
	limit := b.bytes + int64(b.entries+1)*2048
	lr := &io.LimitedReader{R: zr, N: limit + 1}
	tr := tar.NewReader(lr)
	var files []file
	for {
		hd, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if lr.N <= 0 {
				return nil, invalid("archive exceeds the unpacked size limit of %d bytes", MaxContentSize)
			}
			return nil, invalid("not a valid tar archive: %v", err)
		}
		switch hd.Typeflag {
		case tar.TypeXGlobalHeader:
			continue
		case tar.TypeDir:
			if _, err := cleanPath(strings.TrimSuffix(hd.Name, "/") + "/x"); err != nil {
				return nil, err
			}
			if err := b.take(hd.Name, 0, false); err != nil {
				return nil, err
			}
			continue
		case tar.TypeReg: // the reader reports old archivers' TypeRegA as TypeReg
		case tar.TypeSymlink, tar.TypeLink:
			return nil, invalid("archive entry %q is a link; links are not allowed", hd.Name)
		default:
			return nil, invalid("archive entry %q is not a regular file or directory", hd.Name)
		}
		name, err := cleanPath(hd.Name)
		if err != nil {
			return nil, err
		}
		if err := b.take(name, hd.Size, true); err != nil {
			return nil, err
		}
		data := make([]byte, 0, min(hd.Size, 1<<20))
		buf := bytes.NewBuffer(data)
		// hd.Size was checked against the budget; reading at most that
		// many bytes keeps a lying header from costing more.
		n, err := io.Copy(buf, io.LimitReader(tr, hd.Size))
		if err != nil {
			if lr.N <= 0 {
				return nil, invalid("archive exceeds the unpacked size limit of %d bytes", MaxContentSize)
			}
			return nil, invalid("reading %q: %v", name, err)
		}
		if n != hd.Size {
			if lr.N <= 0 {
				return nil, invalid("archive exceeds the unpacked size limit of %d bytes", MaxContentSize)
			}
			return nil, invalid("archive entry %q is truncated", name)
		}
		files = append(files, file{Name: name, Data: buf.Bytes()})
	}
	return files, nil
}

func unzip(content []byte, b *budget) ([]file, error) {
	zr, err := zip.NewReader(bytes.NewReader(content), int64(len(content)))
	if err != nil {
		return nil, invalid("not a valid zip archive: %v", err)
	}
	var files []file
	for _, zf := range zr.File {
		mode := zf.Mode()
		if mode.IsDir() {
			if _, err := cleanPath(strings.TrimSuffix(zf.Name, "/") + "/x"); err != nil {
				return nil, err
			}
			if err := b.take(zf.Name, 0, false); err != nil {
				return nil, err
			}
			continue
		}
		if mode&fs.ModeSymlink != 0 {
			return nil, invalid("archive entry %q is a link; links are not allowed", zf.Name)
		}
		if !mode.IsRegular() {
			return nil, invalid("archive entry %q is not a regular file or directory", zf.Name)
		}
		name, err := cleanPath(zf.Name)
		if err != nil {
			return nil, err
		}
		if zf.UncompressedSize64 > uint64(MaxContentSize) {
			return nil, invalid("file %q exceeds the unpacked size limit of %d bytes", name, MaxContentSize)
		}
		if err := b.take(name, int64(zf.UncompressedSize64), true); err != nil {
			return nil, err
		}
		rc, err := zf.Open()
		if err != nil {
			return nil, invalid("reading %q: %v", name, err)
		}
		// The declared size is untrusted: read one byte more than it to
		// notice a lie instead of trusting it.
		data, err := io.ReadAll(io.LimitReader(rc, int64(zf.UncompressedSize64)+1))
		rc.Close()
		if err != nil {
			return nil, invalid("reading %q: %v", name, err)
		}
		if uint64(len(data)) != zf.UncompressedSize64 {
			return nil, invalid("archive entry %q does not match its declared size", name)
		}
		files = append(files, file{Name: name, Data: data})
	}
	return files, nil
}

// checkSize rejects content over MaxContentSize before any parsing.
func checkSize(content []byte) error {
	if len(content) == 0 {
		return invalid("package content is empty")
	}
	if len(content) > MaxContentSize {
		return invalid("package is %d bytes; the limit is %d bytes", len(content), MaxContentSize)
	}
	return nil
}

// describeFiles is used in error messages that list what a package holds.
func describeFiles(files []file) string {
	names := make([]string, 0, min(len(files), 10))
	for i, f := range files {
		if i == 10 {
			names = append(names, fmt.Sprintf("and %d more", len(files)-10))
			break
		}
		names = append(names, f.Name)
	}
	return strings.Join(names, ", ")
}
