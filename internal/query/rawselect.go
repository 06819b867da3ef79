package query

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
)

// rawMember is one top-level member of a JSON object, as stored.
type rawMember struct {
	key   string // as written between the quotes, free of escapes
	value []byte // the value's bytes
}

// ApplyRaw is Apply on a stored JSON document without decoding it: for
// the selections that keep or drop whole top-level attributes (all
// attributes, or exclude_default without fields reaching into an
// excluded attribute) it copies the kept members' bytes, adds the empty
// value of missing Always attributes, and writes the members in the
// order encoding/json writes a map's keys, followed by a newline as
// json.Encoder does. The result equals the encoding of Apply's map as
// JSON; nested objects keep their stored member order. ok is false when
// the selection or the document needs the decoding path: other
// selections, keys with escapes or characters encoding/json would
// escape, duplicate keys, or a document that is not a JSON object.
func (sel Selection) ApplyRaw(doc []byte) (out []byte, ok bool) {
	o, ok := ParseRawObject(doc)
	if !ok {
		return nil, false
	}
	return sel.ApplyRawObject(o)
}

// RawObject is a stored JSON object split into its top-level members
// without decoding their values.
type RawObject struct {
	members []rawMember
	spaced  bool // whitespace outside strings: the answer is compacted
}

// ParseRawObject splits doc; ok is false when doc is not an object whose
// keys are plain (see plainKey) and distinct, or is malformed.
func ParseRawObject(doc []byte) (RawObject, bool) {
	members, spaced, ok := topMembers(doc)
	return RawObject{members: members, spaced: spaced}, ok
}

// Member returns the bytes of the member key, as stored.
func (o RawObject) Member(key string) ([]byte, bool) {
	for _, m := range o.members {
		if m.key == key {
			return m.value, true
		}
	}
	return nil, false
}

// ApplyRawObject is ApplyRaw on a parsed object.
func (sel Selection) ApplyRawObject(o RawObject) (out []byte, ok bool) {
	if sel.mode != selAll && sel.mode != selDefault {
		return nil, false
	}
	members := o.members
	kept := members
	if sel.mode == selDefault {
		kept = make([]rawMember, 0, len(members)+2)
		for _, m := range members {
			if a, known := sel.attrs[m.key]; known && a.ExcludedByDefault {
				if sel.fields.kid(m.key) != nil {
					return nil, false // fields reaches into it: project
				}
				continue
			}
			kept = append(kept, m)
		}
	}
	for name, a := range sel.attrs {
		if slices.ContainsFunc(members, func(m rawMember) bool { return m.key == name }) {
			continue
		}
		if sel.mode == selDefault && a.ExcludedByDefault {
			if sel.fields.kid(name) != nil {
				return nil, false
			}
			continue
		}
		e, has := a.empty()
		if !has {
			continue
		}
		v := []byte(`""`)
		switch e.(type) {
		case []any:
			v = []byte("[]")
		case map[string]any:
			v = []byte("{}")
		}
		if !plainKey(name) {
			return nil, false
		}
		kept = append(kept, rawMember{key: name, value: v})
	}
	slices.SortFunc(kept, func(a, b rawMember) int { return strings.Compare(a.key, b.key) })
	n := 3
	for _, m := range kept {
		n += len(m.key) + len(m.value) + 4
	}
	var buf bytes.Buffer
	buf.Grow(n)
	buf.WriteByte('{')
	for i, m := range kept {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteByte('"')
		buf.WriteString(m.key)
		buf.WriteString(`":`)
		buf.Write(m.value)
	}
	buf.WriteByte('}')
	if !o.spaced {
		buf.WriteByte('\n')
		return buf.Bytes(), true
	}
	// PostgreSQL writes JSONB with spaces after colons and commas; the
	// answer is compact, as encoding/json writes it.
	out = make([]byte, 0, buf.Len()+1)
	c := bytes.NewBuffer(out)
	if err := json.Compact(c, buf.Bytes()); err != nil {
		return nil, false
	}
	c.WriteByte('\n')
	return c.Bytes(), true
}

// topMembers splits a JSON object into its top-level members. ok is false
// for anything but an object whose keys are plain (see plainKey) and
// distinct, and for malformed JSON. spaced tells whether whitespace
// separates any tokens (inside values included).
func topMembers(doc []byte) (members []rawMember, spaced, ok bool) {
	sp := func(j int) int {
		k := skipSpace(doc, j)
		spaced = spaced || k > j
		return k
	}
	i := sp(0)
	if i >= len(doc) || doc[i] != '{' {
		return nil, false, false
	}
	members = make([]rawMember, 0, 16)
	i = sp(i + 1)
	if i < len(doc) && doc[i] == '}' {
		return members, spaced, sp(i+1) == len(doc)
	}
	for {
		if i >= len(doc) || doc[i] != '"' {
			return nil, false, false
		}
		end := bytes.IndexByte(doc[i+1:], '"')
		if end < 0 {
			return nil, false, false
		}
		key := string(doc[i+1 : i+1+end])
		if !plainKey(key) {
			return nil, false, false
		}
		i = sp(i + end + 2)
		if i >= len(doc) || doc[i] != ':' {
			return nil, false, false
		}
		i = sp(i + 1)
		vend, vspaced, vok := skipValue(doc, i)
		if !vok {
			return nil, false, false
		}
		spaced = spaced || vspaced
		for _, m := range members {
			if m.key == key {
				return nil, false, false
			}
		}
		members = append(members, rawMember{key: key, value: doc[i:vend]})
		i = sp(vend)
		if i >= len(doc) {
			return nil, false, false
		}
		if doc[i] == '}' {
			return members, spaced, sp(i+1) == len(doc)
		}
		if doc[i] != ',' {
			return nil, false, false
		}
		i = sp(i + 1)
	}
}

// plainKey reports whether encoding/json writes key exactly as it is
// (printable ASCII other than the characters it escapes).
func plainKey(key string) bool {
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the JSON value starting at i, and whether
// whitespace separates tokens inside it. It checks only the structure
// (brackets and strings): the stored documents are valid JSON (encoding/json
// wrote them, or PostgreSQL keeps them as JSONB), and a value it cannot
// delimit sends the caller to the decoding path.
func skipValue(b []byte, i int) (end int, spaced, ok bool) {
	if i >= len(b) {
		return 0, false, false
	}
	switch b[i] {
	case '"':
		end, ok := skipString(b, i)
		return end, false, ok
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				end, ok := skipString(b, i)
				if !ok {
					return 0, false, false
				}
				i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, spaced, true
				}
			case ' ', '\n', '\t', '\r':
				spaced = true
			}
			i++
		}
		return 0, false, false
	}
	// A number, true, false or null: up to the next delimiter.
	start := i
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\n' && b[i] != '\t' && b[i] != '\r' {
		i++
	}
	return i, false, i > start
}

// skipString returns the end of the JSON string starting at b[i] == '"'.
func skipString(b []byte, i int) (int, bool) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return 0, false
}
