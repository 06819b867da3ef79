package httpapi

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/nephoran/o2ims/internal/collection"
	"github.com/nephoran/o2ims/internal/query"
)

// Collections the server ships (the alarm dictionary, probable causes) are
// served from memory with the same query language as stored ones.

var alarmDictionarySchema = &query.Schema{Name: "alarm_dictionaries", Object: "alarm dictionary", Attrs: []query.Attr{
	{Name: "alarmDictionaryId", Type: query.String},
	{Name: "alarmDictionaryVersion", Type: query.String},
	{Name: "alarmDictionarySchemaVersion", Type: query.String},
	{Name: "entityType", Type: query.String},
	{Name: "vendor", Type: query.String},
	{Name: "managementInterfaceId", Type: query.String, List: true, Complex: true},
	{Name: "pkNotificationField", Type: query.String, List: true, Complex: true},
	{Name: "alarmDefinition", Type: query.Object, List: true, Complex: true},
}}

var probableCauseSchema = &query.Schema{Name: "probable_causes", Object: "probable cause", Attrs: []query.Attr{
	{Name: "probableCauseId", Type: query.String},
	{Name: "name", Type: query.String},
	{Name: "description", Type: query.String},
}}

// memoryStore pages through in-memory objects ordered by their id (the
// schema's first attribute), evaluating filters with query.Match.
type memoryStore struct {
	objs []map[string]any
	sc   *query.Schema
}

func (m memoryStore) List(_ context.Context, sc *query.Schema, f query.Filter, limit int, after string) ([]json.RawMessage, string, bool, error) {
	idKey := sc.Attrs[0].Name
	objs := slices.Clone(m.objs)
	slices.SortFunc(objs, func(a, b map[string]any) int { return strings.Compare(a[idKey].(string), b[idKey].(string)) })
	var out []json.RawMessage
	last := ""
	for _, o := range objs {
		id := o[idKey].(string)
		if id <= after || !f.Match(sc, o) {
			continue
		}
		if len(out) == limit {
			return out, last, true, nil
		}
		b, err := json.Marshal(o)
		if err != nil {
			return nil, "", false, err
		}
		out = append(out, b)
		last = id
	}
	return out, last, false, nil
}

func staticList(sc *query.Schema, values []any, req collection.Request) (collection.Page, error) {
	objs := make([]map[string]any, 0, len(values))
	for _, v := range values {
		b, err := json.Marshal(v)
		if err != nil {
			return collection.Page{}, err
		}
		var o map[string]any
		if err := json.Unmarshal(b, &o); err != nil {
			return collection.Page{}, err
		}
		objs = append(objs, o)
	}
	return collection.List(context.Background(), memoryStore{objs: objs, sc: sc}, sc, req, collection.Options{})
}
