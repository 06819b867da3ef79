// Package collection runs SOL013 collection queries: it parses the filter
// and attribute selectors against an object schema, reads one keyset page
// from the store and projects each object.
package collection

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/query"
)

// Page size limits (SOL013 leaves them to the implementation).
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// Store reads one page of objects of a schema.
type Store interface {
	List(ctx context.Context, sc *query.Schema, f query.Filter, limit int, after string) ([]json.RawMessage, string, bool, error)
}

// Request is a SOL013 collection query as received from a client.
type Request struct {
	Filter         string
	Fields         string
	ExcludeFields  string
	AllFields      bool
	ExcludeDefault bool
	Limit          *int // nil means DefaultLimit
	Marker         string
	// Encoded asks for the page as JSON (Page.Encoded) where the
	// collection can make it from the stored documents without decoding
	// them (Options.Stored); Items is then nil.
	Encoded bool
}

// Page is one page of a collection, projected by the attribute selectors.
type Page struct {
	Items []map[string]any
	// Encoded, when set instead of Items, is the page's JSON array as
	// encoding/json writes Items (a newline follows it).
	Encoded []byte
	// NextMarker is set when more objects follow; pass it as Marker.
	NextMarker string
}

// Options adjust a query.
type Options struct {
	// Scope terms are added to the client's filter; they restrict a
	// collection to, for example, one pool.
	Scope []query.Term
	// Conds are server-made SQL conditions added to the filter.
	Conds []query.Cond
	// Decorate, when set, completes the decoded objects before the
	// attribute selectors apply (for attributes not kept in the document).
	Decorate func(ctx context.Context, objs []map[string]any) error
	// Stored declares that the stored documents are the objects as the
	// collection shows them (Decorate changes nothing), so that an
	// Encoded request may be answered from their bytes.
	Stored bool
}

// List runs req over the objects of sc.
func List(ctx context.Context, store Store, sc *query.Schema, req Request, opts Options) (Page, error) {
	f, err := query.ParseFilter(req.Filter)
	if err != nil {
		return Page{}, err
	}
	if err := f.Validate(sc); err != nil {
		return Page{}, err
	}
	f.Terms = append(f.Terms, opts.Scope...)
	f.Conds = append(f.Conds, opts.Conds...)
	sel, err := query.ParseSelection(sc, req.Fields, req.ExcludeFields, req.AllFields, req.ExcludeDefault)
	if err != nil {
		return Page{}, err
	}
	limit := DefaultLimit
	if req.Limit != nil {
		limit = *req.Limit
		if limit < 1 || limit > MaxLimit {
			return Page{}, ims.Errorf(ims.EINVALID, "limit: must be between 1 and %d, got %d", MaxLimit, limit)
		}
	}
	after, err := decodeMarker(req.Marker)
	if n, ok := pageNumber(req.Marker); ok {
		// The compatibility form: page n of limit objects, found by
		// reading past the pages before it.
		if (n-1)*limit > maxPageSkip {
			return Page{Items: []map[string]any{}}, nil
		}
		after, err = "", nil
		if n > 1 {
			skipped, last, _, err := store.List(ctx, sc, f, (n-1)*limit, "")
			if err != nil {
				return Page{}, err
			}
			if len(skipped) < (n-1)*limit {
				return Page{Items: []map[string]any{}}, nil
			}
			after = last
		}
	}
	if err != nil {
		return Page{}, err
	}
	docs, last, more, err := store.List(ctx, sc, f, limit, after)
	if err != nil {
		return Page{}, err
	}
	if req.Encoded && opts.Stored {
		if b, ok := encodeStored(sel, docs); ok {
			page := Page{Encoded: b}
			if more {
				page.NextMarker = encodeMarker(last)
			}
			return page, nil
		}
	}
	objs := make([]map[string]any, 0, len(docs))
	for _, d := range docs {
		var obj map[string]any
		if err := json.Unmarshal(d, &obj); err != nil {
			return Page{}, ims.Internal(fmt.Errorf("decode %s: %w", sc.Name, err), "reading failed")
		}
		objs = append(objs, obj)
	}
	if opts.Decorate != nil {
		if err := opts.Decorate(ctx, objs); err != nil {
			return Page{}, err
		}
	}
	page := Page{Items: make([]map[string]any, 0, len(objs))}
	for _, obj := range objs {
		page.Items = append(page.Items, sel.Apply(obj))
	}
	if more {
		page.NextMarker = encodeMarker(last)
	}
	return page, nil
}

// The next-page marker is the keyset position (the last id returned),
// wrapped so that clients treat it as opaque.
type marker struct {
	V     int    `json:"v"`
	After string `json:"a"`
}

func encodeMarker(lastID string) string {
	b, _ := json.Marshal(marker{V: 1, After: lastID})
	return base64.RawURLEncoding.EncodeToString(b)
}

// maxPageSkip bounds the objects a page number may skip; a page beyond
// it is empty.
const maxPageSkip = 10_000

// pageNumber reads the compatibility form of nextpage_opaque_marker that
// clients of other O2 IMS implementations send: a positive page number.
func pageNumber(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n >= 1
}

func decodeMarker(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	var m marker
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	if err != nil || m.V != 1 || m.After == "" {
		return "", ims.Errorf(ims.EINVALID, "nextpage_opaque_marker: not a marker issued by this server")
	}
	return m.After, nil
}

// Each calls fn for every object of sc that matches f, page by page, and
// stops at the first error.
func Each(ctx context.Context, store Store, sc *query.Schema, f query.Filter, fn func(doc json.RawMessage) error) error {
	after := ""
	for {
		docs, last, more, err := store.List(ctx, sc, f, MaxLimit, after)
		if err != nil {
			return err
		}
		for _, d := range docs {
			if err := fn(d); err != nil {
				return err
			}
		}
		if !more {
			return nil
		}
		after = last
	}
}

// encodeStored projects the stored documents without decoding them
// (query.Selection.ApplyRawObject) into the JSON array encoding/json
// would write for their projections; ok is false when one of them needs
// the decoding path.
func encodeStored(sel query.Selection, docs []json.RawMessage) ([]byte, bool) {
	out := make([]byte, 0, 2+len(docs)*512)
	out = append(out, '[')
	for i, d := range docs {
		o, ok := query.ParseRawObject(d)
		if !ok {
			return nil, false
		}
		b, ok := sel.ApplyRawObject(o)
		if !ok {
			return nil, false
		}
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, b[:len(b)-1]...) // without its newline
	}
	return append(out, ']', '\n'), true
}
