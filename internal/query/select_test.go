package query

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// selDoc is the document of the selection tests. "other" and "more" are
// members the schema does not know: a scalar and a structure.
const selDoc = `{
	"id": "a", "name": "alpha", "capacity": 10, "description": "first",
	"tags": ["x", "y"],
	"extensions": {"country": "fr", "site": "paris", "nested": {"a": 1, "b": 2}},
	"elements": [{"name": "e1", "slot": 1}, {"name": "e2", "slot": 2}, "junk"],
	"other": 1, "more": {"x": 1}
}`

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return m
}

func TestSelection(t *testing.T) {
	const scalars = `"id": "a", "name": "alpha", "capacity": 10, "other": 1`
	const everything = `"id": "a", "name": "alpha", "capacity": 10, "description": "first",
		"tags": ["x", "y"],
		"extensions": {"country": "fr", "site": "paris", "nested": {"a": 1, "b": 2}},
		"elements": [{"name": "e1", "slot": 1}, {"name": "e2", "slot": 2}, "junk"],
		"other": 1, "more": {"x": 1}`
	const defaults = `"id": "a", "name": "alpha", "capacity": 10,
		"tags": ["x", "y"],
		"extensions": {"country": "fr", "site": "paris", "nested": {"a": 1, "b": 2}},
		"other": 1, "more": {"x": 1}`
	tests := []struct {
		name           string
		fields, excl   string
		all, exclDefls bool
		want           string
	}{
		{name: "no selector", want: `{` + defaults + `}`},
		{name: "exclude_default", exclDefls: true, want: `{` + defaults + `}`},
		{name: "all_fields", all: true, want: `{` + everything + `}`},
		{name: "fields scalar only", fields: "name", want: `{` + scalars + `, "description": "first"}`},
		{name: "fields whole", fields: "tags,extensions",
			want: `{` + scalars + `, "description": "first", "tags": ["x", "y"],
				"extensions": {"country": "fr", "site": "paris", "nested": {"a": 1, "b": 2}}}`},
		{name: "fields sub-path", fields: "extensions/country",
			want: `{` + scalars + `, "description": "first", "extensions": {"country": "fr"}}`},
		{name: "fields whole wins", fields: "extensions/country,extensions",
			want: `{` + scalars + `, "description": "first",
				"extensions": {"country": "fr", "site": "paris", "nested": {"a": 1, "b": 2}}}`},
		{name: "fields whole wins reversed", fields: "extensions,extensions/country",
			want: `{` + scalars + `, "description": "first",
				"extensions": {"country": "fr", "site": "paris", "nested": {"a": 1, "b": 2}}}`},
		{name: "fields deep", fields: "extensions/nested/a,extensions/country",
			want: `{` + scalars + `, "description": "first", "extensions": {"country": "fr", "nested": {"a": 1}}}`},
		{name: "fields missing key", fields: "extensions/zz,extensions/country/deeper",
			want: `{` + scalars + `, "description": "first", "extensions": {}}`},
		{name: "fields into list of objects", fields: "elements/name",
			want: `{` + scalars + `, "description": "first", "elements": [{"name": "e1"}, {"name": "e2"}]}`},
		{name: "fields with exclude_default", fields: "elements/name", exclDefls: true,
			want: `{` + defaults + `, "elements": [{"name": "e1"}, {"name": "e2"}]}`},
		{name: "fields with exclude_default puts back scalar", fields: "description", exclDefls: true,
			want: `{` + defaults + `, "description": "first"}`},
		{name: "fields with exclude_default non-default sub-path", fields: "extensions/country", exclDefls: true,
			want: `{` + defaults + `}`},
		{name: "exclude_fields", excl: "tags,extensions/site",
			want: `{"id": "a", "name": "alpha", "capacity": 10, "description": "first",
				"extensions": {"country": "fr", "nested": {"a": 1, "b": 2}},
				"elements": [{"name": "e1", "slot": 1}, {"name": "e2", "slot": 2}, "junk"],
				"other": 1, "more": {"x": 1}}`},
		{name: "exclude_fields deep", excl: "extensions/nested/a,extensions/zz",
			want: `{"id": "a", "name": "alpha", "capacity": 10, "description": "first",
				"tags": ["x", "y"],
				"extensions": {"country": "fr", "site": "paris", "nested": {"b": 2}},
				"elements": [{"name": "e1", "slot": 1}, {"name": "e2", "slot": 2}, "junk"],
				"other": 1, "more": {"x": 1}}`},
		{name: "exclude_fields in list of objects", excl: "elements/slot,name",
			want: `{"id": "a", "capacity": 10, "description": "first",
				"tags": ["x", "y"],
				"extensions": {"country": "fr", "site": "paris", "nested": {"a": 1, "b": 2}},
				"elements": [{"name": "e1"}, {"name": "e2"}, "junk"],
				"other": 1, "more": {"x": 1}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sel, err := ParseSelection(&testSchema, tt.fields, tt.excl, tt.all, tt.exclDefls)
			if err != nil {
				t.Fatalf("ParseSelection: %v", err)
			}
			doc := decode(t, selDoc)
			got := sel.Apply(doc)
			if want := decode(t, tt.want); !reflect.DeepEqual(got, want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(want)
				t.Errorf("Apply = %s\nwant    %s", g, w)
			}
			if !reflect.DeepEqual(doc, decode(t, selDoc)) {
				t.Errorf("Apply modified its input")
			}
		})
	}

	if got := (Selection{}).Apply(decode(t, selDoc)); !reflect.DeepEqual(got, decode(t, selDoc)) {
		t.Errorf("zero Selection dropped attributes: %v", got)
	}
	if got := (Selection{}).Apply(nil); got != nil {
		t.Errorf("Apply(nil) = %v", got)
	}
}

func TestParseSelectionErrors(t *testing.T) {
	tests := []struct {
		name           string
		fields, excl   string
		all, exclDefls bool
		parts          []string
	}{
		{"all+fields", "name", "", true, false, []string{"all_fields cannot be combined with fields"}},
		{"all+exclude_fields", "", "tags", true, false, []string{"all_fields cannot be combined with exclude_fields"}},
		{"all+exclude_default", "", "", true, true, []string{"all_fields cannot be combined with exclude_default"}},
		{"all+fields+exclude_default", "name", "", true, true, []string{"all_fields", "fields or exclude_default"}},
		{"fields+exclude_fields", "name", "tags", false, false, []string{"fields and exclude_fields cannot be combined"}},
		{"exclude_fields+exclude_default", "", "tags", false, true, []string{"exclude_fields and exclude_default cannot be combined"}},
		{"unknown", "foo", "", false, false, []string{`fields: unknown attribute "foo"`}},
		{"unknown sub-path", "foo/bar", "", false, false, []string{`fields: unknown attribute "foo"`}},
		{"unknown excluded", "", "name,bar", false, false, []string{`exclude_fields: unknown attribute "bar"`}},
		{"unknown with default", "extensions,zz", "", false, true, []string{`fields: unknown attribute "zz"`}},
		{"sub-path of scalar", "name/x", "", false, false, []string{`fields: attribute "name" has no sub-attributes`, `"name/x"`}},
		{"sub-path of list", "", "tags/x", false, false, []string{`exclude_fields: attribute "tags" has no sub-attributes`}},
		{"empty entry", "name,,tags", "", false, false, []string{"fields: empty entry", `"name,,tags"`}},
		{"trailing comma", "name,", "", false, false, []string{"fields: empty entry"}},
		{"only comma", "", ",", false, false, []string{"exclude_fields: empty entry"}},
		{"empty segment", "extensions//a", "", false, false, []string{"fields: empty segment", `"extensions//a"`}},
		{"trailing slash", "extensions/", "", false, false, []string{"fields: empty segment"}},
		{"space", "name, tags", "", false, false, []string{`unknown attribute " tags"`}},
		{"too many", strings.Repeat("name,", maxSelectorEntries) + "name", "", false, false, []string{"too many entries"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSelection(&testSchema, tt.fields, tt.excl, tt.all, tt.exclDefls)
			wantInvalid(t, err, tt.parts...)
		})
	}
	if _, err := ParseSelection(nil, "", "", false, false); err == nil {
		t.Error("ParseSelection accepted a nil schema")
	}
}
