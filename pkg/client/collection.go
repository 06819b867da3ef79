package o2

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// MaxLimit is the largest page size the IMS accepts in ListOptions.Limit.
const MaxLimit = 1000

// ListOptions are the SOL013 query parameters of a collection request. The
// zero value asks for the first page of the server's default size, without
// the default-excluded attributes.
type ListOptions struct {
	// Filter selects the objects returned; the zero Filter selects all.
	Filter Filter
	// Fields names complex attributes, or paths into them such as
	// "extensions/site", to include besides the simple attributes.
	Fields []string
	// ExcludeFields names attributes, or paths into them, to leave out.
	ExcludeFields []string
	// AllFields includes every attribute, also those excluded by default.
	AllFields bool
	// ExcludeDefault leaves out the attributes excluded by default; the
	// server does so anyway when no other attribute selector is given.
	ExcludeDefault bool
	// Limit is the page size, from 1 to MaxLimit; zero selects the
	// server's default (100).
	Limit int
	// Marker is the NextMarker of a previous Page, to fetch the page after
	// it; empty fetches the first page.
	Marker string
	// ChangedSince, the ChangeStamp of an earlier page, lists only the
	// objects created or changed since, with Page.Deleted; only the
	// Nephoran resource pool and deployment lists accept it.
	ChangedSince string
	// MinCapacity keeps only resource pools whose free capacity
	// (allocatable − requested − reserved) covers it; only resource pool
	// lists accept it.
	MinCapacity ResourceList
}

// query returns o as URL query parameters.
func (o ListOptions) query() (url.Values, error) {
	q := url.Values{}
	if !o.Filter.IsZero() {
		q.Set("filter", o.Filter.String())
	}
	if len(o.Fields) > 0 {
		q.Set("fields", strings.Join(o.Fields, ","))
	}
	if len(o.ExcludeFields) > 0 {
		q.Set("exclude_fields", strings.Join(o.ExcludeFields, ","))
	}
	if o.AllFields {
		q.Set("all_fields", "")
	}
	if o.ExcludeDefault {
		q.Set("exclude_default", "")
	}
	if o.Limit < 0 {
		return nil, fmt.Errorf("o2: ListOptions.Limit %d is negative", o.Limit)
	}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.Marker != "" {
		q.Set("nextpage_opaque_marker", o.Marker)
	}
	if o.ChangedSince != "" {
		q.Set("changedSince", o.ChangedSince)
	}
	if len(o.MinCapacity) > 0 {
		v, err := o.MinCapacity.encode()
		if err != nil {
			return nil, fmt.Errorf("o2: ListOptions.MinCapacity: %w", err)
		}
		q.Set("minCapacity", v)
	}
	return q, nil
}

// Page is one page of a collection.
type Page[T any] struct {
	// Items are the objects of this page, in the server's order.
	Items []T
	// NextMarker is the opaque marker of the next page, to be passed as
	// ListOptions.Marker; it is empty on the last page.
	NextMarker string
	// ChangeStamp, from collections that follow changes (resource pools
	// and deployments of the Nephoran API), is the ListOptions.ChangedSince
	// of the next poll.
	ChangeStamp string
	// Deleted are the ids of the objects deleted since
	// ListOptions.ChangedSince (on the first page).
	Deleted []string
}

// HasNext reports whether a further page exists.
func (p *Page[T]) HasNext() bool {
	return p.NextMarker != ""
}

// collection is the generic implementation of a collection of objects of
// type T at one path: listing, paging, and the single-object operations on
// path/{id}. Each service of the package is a thin, typed wrapper of one.
type collection[T any] struct {
	c    *Client
	base *url.URL // the collection's URL
	what string   // what one object is called in errors, such as "resource pool"
}

// newCollection returns the collection at prefix/segments... below c's
// endpoint.
func newCollection[T any](c *Client, what, prefix string, segments ...string) collection[T] {
	return collection[T]{c: c, base: c.resolve(prefix, segments...), what: what}
}

// list fetches the page of the collection that opts describe.
func (col collection[T]) list(ctx context.Context, opts ListOptions) (*Page[T], error) {
	u, err := col.listURL(opts)
	if err != nil {
		return nil, err
	}
	items, next, extra, err := col.fetch(ctx, u)
	if err != nil {
		return nil, err
	}
	p := &Page[T]{Items: items, ChangeStamp: extra.stamp, Deleted: extra.deleted}
	if next != nil {
		p.NextMarker = next.Query().Get("nextpage_opaque_marker")
		if p.NextMarker == "" {
			return nil, fmt.Errorf("o2: next-page link %q carries no nextpage_opaque_marker", next)
		}
	}
	return p, nil
}

// all iterates over every object opts select, starting at opts.Marker and
// following the Link rel="next" of each page. It stops after yielding the
// first error.
func (col collection[T]) all(ctx context.Context, opts ListOptions) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		u, err := col.listURL(opts)
		if err != nil {
			yield(zero, err)
			return
		}
		visited := map[string]bool{}
		for u != nil {
			visited[u.String()] = true
			items, next, _, err := col.fetch(ctx, u)
			if err != nil {
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			if next != nil && visited[next.String()] {
				yield(zero, fmt.Errorf("o2: paging loop: the server links back to %s", next))
				return
			}
			u = next
		}
	}
}

// get fetches the object with identifier id.
func (col collection[T]) get(ctx context.Context, id string) (*T, error) {
	u, err := col.item(id)
	if err != nil {
		return nil, err
	}
	var out T
	if err := col.c.getJSON(ctx, u, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// create POSTs in to the collection and returns the object the server
// created. It is never retried.
func (col collection[T]) create(ctx context.Context, in any) (*T, error) {
	var out T
	if _, err := col.c.do(ctx, call{method: http.MethodPost, url: col.base, body: in, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// createRaw POSTs the already encoded body raw, of media type contentType,
// to the collection and returns the object the server created. It is never
// retried.
func (col collection[T]) createRaw(ctx context.Context, raw []byte, contentType string) (*T, error) {
	var out T
	if _, err := col.c.do(ctx, call{method: http.MethodPost, url: col.base, raw: raw, contentType: contentType, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// action POSTs body to the task resource segment of the object with
// identifier id, such as cnfInstances/{id}/instantiate, and decodes the
// answer into out. It is never retried.
func (col collection[T]) action(ctx context.Context, id, segment string, body, out any) (*response, error) {
	u, err := col.item(id)
	if err != nil {
		return nil, err
	}
	return col.c.do(ctx, call{method: http.MethodPost, url: appendPath(u, segment), body: body, out: out})
}

// patch applies the JSON merge patch (RFC 7396) patch to the object with
// identifier id and returns the server's answer. It is never retried.
func (col collection[T]) patch(ctx context.Context, id string, patch any) (*T, error) {
	var out T
	if err := col.patchInto(ctx, id, patch, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// modify applies the JSON merge patch (RFC 7396) patch to the object with
// identifier id and discards the answer, for objects whose PATCH does not
// answer with the object (an alarm answers with the modifications). It is
// never retried.
func (col collection[T]) modify(ctx context.Context, id string, patch any) error {
	return col.patchInto(ctx, id, patch, nil)
}

// patchInto sends the merge patch to the object id and decodes the answer
// into out unless it is nil.
func (col collection[T]) patchInto(ctx context.Context, id string, patch, out any) error {
	u, err := col.item(id)
	if err != nil {
		return err
	}
	_, err = col.c.do(ctx, call{method: http.MethodPatch, url: u, body: patch, contentType: contentTypeMergePatch, out: out})
	return err
}

// replace PUTs in as the object with identifier id and returns what the
// server stored. PUT is idempotent, so it is retried like a read.
func (col collection[T]) replace(ctx context.Context, id string, in any) (*T, error) {
	u, err := col.item(id)
	if err != nil {
		return nil, err
	}
	var out T
	if _, err := col.c.do(ctx, call{method: http.MethodPut, url: u, body: in, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// delete deletes the object with identifier id.
func (col collection[T]) delete(ctx context.Context, id string) error {
	u, err := col.item(id)
	if err != nil {
		return err
	}
	_, err = col.c.do(ctx, call{method: http.MethodDelete, url: u})
	return err
}

// item returns the URL of the object with identifier id.
func (col collection[T]) item(id string) (*url.URL, error) {
	if id == "" {
		return nil, fmt.Errorf("o2: empty %s ID", col.what)
	}
	return appendPath(col.base, id), nil
}

// child returns the collection of objects of type T at segments below the
// object id of parent, such as the resources of one resource pool.
func child[T, P any](parent collection[P], id, what string, segments ...string) (collection[T], error) {
	u, err := parent.item(id)
	if err != nil {
		return collection[T]{}, err
	}
	return collection[T]{c: parent.c, base: appendPath(u, segments...), what: what}, nil
}

// appendPath returns a copy of u with segments appended to its path, each
// escaped as one segment, so that identifiers containing '/', '?' or '%'
// cannot change the addressed path.
func appendPath(u *url.URL, segments ...string) *url.URL {
	escaped := strings.TrimRight(u.EscapedPath(), "/")
	for _, s := range segments {
		escaped += "/" + url.PathEscape(s)
	}
	out := *u
	out.RawPath = escaped
	out.Path, _ = url.PathUnescape(escaped) // built from valid escapes
	return &out
}

// listURL returns the URL of the first page opts select.
func (col collection[T]) listURL(opts ListOptions) (*url.URL, error) {
	q, err := opts.query()
	if err != nil {
		return nil, err
	}
	u := *col.base
	u.RawQuery = q.Encode()
	return &u, nil
}

// fetch GETs one page at u and returns its items and the URL of the next
// page, or nil on the last page.
func (col collection[T]) fetch(ctx context.Context, u *url.URL) ([]T, *url.URL, pageExtra, error) {
	var raw []json.RawMessage
	resp, err := col.c.do(ctx, call{method: http.MethodGet, url: u, out: &raw})
	if err != nil {
		return nil, nil, pageExtra{}, err
	}
	extra := pageExtra{stamp: resp.header.Get("X-Change-Stamp")}
	items := make([]T, 0, len(raw))
	for _, r := range raw {
		if id, ok := tombstone(r); ok {
			extra.deleted = append(extra.deleted, id)
			continue
		}
		var it T
		if err := json.Unmarshal(r, &it); err != nil {
			return nil, nil, pageExtra{}, fmt.Errorf("o2: decoding a %s of %s: %w", col.what, u.Path, err)
		}
		items = append(items, it)
	}
	next, err := col.c.nextLink(resp)
	if err != nil {
		return nil, nil, pageExtra{}, err
	}
	return items, next, extra, nil
}

// pageExtra is what a page carries besides its objects.
type pageExtra struct {
	stamp   string
	deleted []string
}

// tombstone reads {"<id attribute>": id, "deleted": true}.
func tombstone(r json.RawMessage) (string, bool) {
	var m map[string]any
	if json.Unmarshal(r, &m) != nil || len(m) != 2 || m["deleted"] != true {
		return "", false
	}
	for k, v := range m {
		if id, ok := v.(string); ok && k != "deleted" {
			return id, true
		}
	}
	return "", false
}

// nextLink returns the target of the Link rel="next" header of resp, or nil
// when there is none. The target is resolved against the request URL
// (RFC 8288). A target outside the endpoint's origin is refused, so that
// credentials are never sent elsewhere. When the endpoint has a path
// prefix (the IMS behind a gateway) and the server, unaware of it, links
// to a path without it, the prefix is added back.
func (c *Client) nextLink(resp *response) (*url.URL, error) {
	ref, ok := findLink(resp.header.Values("Link"), "next")
	if !ok {
		return nil, nil
	}
	target, err := url.Parse(ref)
	if err != nil {
		return nil, fmt.Errorf("o2: invalid next-page link %q: %w", ref, err)
	}
	next := resp.url.ResolveReference(target)
	if origin(next) != origin(c.endpoint) {
		return nil, fmt.Errorf("o2: refusing next-page link %q outside the endpoint %s", ref, c.endpoint)
	}
	if prefix := c.endpoint.EscapedPath(); prefix != "" && target.Host == "" &&
		strings.HasPrefix(target.Path, "/") && !strings.HasPrefix(next.EscapedPath(), prefix+"/") {
		escaped := prefix + next.EscapedPath()
		next.RawPath = escaped
		next.Path, _ = url.PathUnescape(escaped)
	}
	return next, nil
}

// findLink returns the target of the first link-value of the Link header
// values that has rel (RFC 8288), or false. Targets may contain commas and
// semicolons, so the header is scanned rather than split.
func findLink(values []string, rel string) (string, bool) {
	for _, v := range values {
		s := v
		for {
			start := strings.IndexByte(s, '<')
			if start < 0 {
				break
			}
			end := strings.IndexByte(s[start:], '>')
			if end < 0 {
				break
			}
			target := s[start+1 : start+end]
			s = s[start+end+1:]
			params, rest := splitLinkParams(s)
			s = rest
			for _, r := range strings.Fields(params["rel"]) {
				if strings.EqualFold(r, rel) {
					return target, true
				}
			}
		}
	}
	return "", false
}

// splitLinkParams reads the ";name=value" parameters after a link target
// up to the ',' that ends the link-value, honouring quoted strings. It
// returns the parameters, names in lower case, and the text after the ','.
func splitLinkParams(s string) (map[string]string, string) {
	params := map[string]string{}
	i := 0
	for i < len(s) {
		// Skip to the next ';' or the ',' ending this link-value.
		for i < len(s) && s[i] != ';' && s[i] != ',' {
			i++
		}
		if i == len(s) || s[i] == ',' {
			break
		}
		i++ // ';'
		j := i
		for j < len(s) && s[j] != '=' && s[j] != ';' && s[j] != ',' {
			j++
		}
		name := strings.ToLower(strings.TrimSpace(s[i:j]))
		i = j
		if i < len(s) && s[i] == '=' {
			i++
			for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
				i++
			}
			var val strings.Builder
			if i < len(s) && s[i] == '"' {
				i++
				for i < len(s) && s[i] != '"' {
					if s[i] == '\\' && i+1 < len(s) {
						i++
					}
					val.WriteByte(s[i])
					i++
				}
				if i < len(s) {
					i++ // closing quote
				}
			} else {
				j := i
				for j < len(s) && s[j] != ';' && s[j] != ',' {
					j++
				}
				val.WriteString(strings.TrimSpace(s[i:j]))
				i = j
			}
			if _, dup := params[name]; !dup && name != "" {
				params[name] = val.String()
			}
		}
	}
	if i < len(s) && s[i] == ',' {
		i++
	}
	return params, s[i:]
}

// singleton is the generic implementation of a single object at a fixed
// path, such as a service configuration, that is read, replaced and
// patched in place.
type singleton[T any] struct {
	c   *Client
	url *url.URL
}

// newSingleton returns the singleton at prefix/segments... below c's
// endpoint.
func newSingleton[T any](c *Client, prefix string, segments ...string) singleton[T] {
	return singleton[T]{c: c, url: c.resolve(prefix, segments...)}
}

// get fetches the object.
func (s singleton[T]) get(ctx context.Context) (*T, error) {
	var out T
	if err := s.c.getJSON(ctx, s.url, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// replace PUTs in as the new object and returns the server's answer.
func (s singleton[T]) replace(ctx context.Context, in *T) (*T, error) {
	var out T
	if _, err := s.c.do(ctx, call{method: http.MethodPut, url: s.url, body: in, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// patch applies the JSON merge patch (RFC 7396) patch and returns the
// server's answer. It is never retried.
func (s singleton[T]) patch(ctx context.Context, patch any) (*T, error) {
	var out T
	if _, err := s.c.do(ctx, call{method: http.MethodPatch, url: s.url, body: patch, contentType: contentTypeMergePatch, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}
