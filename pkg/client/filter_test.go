package o2

import "testing"

func TestFilterBuilder(t *testing.T) {
	type kind string
	tests := []struct {
		name string
		f    Filter
		want string
	}{
		{"plain", Eq("name", "pool1"), "(eq,name,pool1)"},
		{"space", Eq("name", "my pool"), "(eq,name,'my pool')"},
		{"comma", Eq("name", "a,b"), "(eq,name,'a,b')"},
		{"parens", Neq("description", "x (y)"), "(neq,description,'x (y)')"},
		{"quote doubled", Eq("name", "it's"), "(eq,name,'it''s')"},
		{"only quotes", Eq("name", "''"), "(eq,name,'''''')"},
		{"semicolon", Eq("name", "a;b"), "(eq,name,'a;b')"},
		{"slash", Eq("location", "eu/west"), "(eq,location,'eu/west')"},
		{"empty", Eq("globalAssetId", ""), "(eq,globalAssetId,'')"},
		{"tab", Eq("name", "a\tb"), "(eq,name,'a\tb')"},
		{"unicode", Eq("name", "Zürich"), "(eq,name,Zürich)"},
		{"path attr", In("extensions/provider", "aws", "azure"), "(in,extensions/provider,aws,azure)"},
		{"in mixed quoting", In("name", "a", "b c", ""), "(in,name,a,'b c','')"},
		{"nin", Nin("resourceClass", "STORAGE", "NETWORKING"), "(nin,resourceClass,STORAGE,NETWORKING)"},
		{"int", Gt("extensions/sizeBytes", 1000000000), "(gt,extensions/sizeBytes,1000000000)"},
		{"negative", Gte("extensions/t", -5), "(gte,extensions/t,-5)"},
		{"float", Lt("extensions/mhz", 2445.5), "(lt,extensions/mhz,2445.5)"},
		{"large float not exponent", Lte("extensions/x", 1e21), "(lte,extensions/x,1000000000000000000000)"},
		{"float32", Lt("extensions/r", float32(0.1)), "(lt,extensions/r,0.1)"},
		{"uint", Eq("extensions/n", uint8(7)), "(eq,extensions/n,7)"},
		{"bool", Eq("extensions/readOnly", false), "(eq,extensions/readOnly,false)"},
		{"defined string type", Eq("resourceKind", kind("PHYSICAL")), "(eq,resourceKind,PHYSICAL)"},
		{"model constant", Eq("resourceClass", ResourceClassCompute), "(eq,resourceClass,COMPUTE)"},
		{"cont", Cont("name", "System memory"), "(cont,name,'System memory')"},
		{"ncont", Ncont("description", "virtio"), "(ncont,description,virtio)"},
		{"and", And(Eq("tags", "disk"), Gt("extensions/sizeBytes", 1), Cont("name", "a b")),
			"(eq,tags,disk);(gt,extensions/sizeBytes,1);(cont,name,'a b')"},
		{"and skips zero", And(Filter{}, Eq("a", "b"), Filter{}), "(eq,a,b)"},
		{"nested and", And(And(Eq("a", "1"), Eq("b", "2")), Eq("c", "3")), "(eq,a,1);(eq,b,2);(eq,c,3)"},
		{"raw", RawFilter("(eq,tags,host)"), "(eq,tags,host)"},
		{"raw and", And(RawFilter("(eq,tags,host)"), Eq("name", "x y")), "(eq,tags,host);(eq,name,'x y')"},
		{"zero", Filter{}, ""},
		{"raw empty", RawFilter(""), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if tt.f.IsZero() != (tt.want == "") {
				t.Errorf("IsZero = %v for %q", tt.f.IsZero(), tt.want)
			}
		})
	}
}

func TestAndDoesNotAlias(t *testing.T) {
	base := And(Eq("a", "1"), Eq("b", "2"))
	x := And(base, Eq("c", "3"))
	y := And(base, Eq("d", "4"))
	if x.String() != "(eq,a,1);(eq,b,2);(eq,c,3)" || y.String() != "(eq,a,1);(eq,b,2);(eq,d,4)" {
		t.Fatalf("And shares storage: %q %q", x, y)
	}
}

func TestListOptionsQuery(t *testing.T) {
	q, err := ListOptions{
		Filter:         And(Eq("name", "my pool"), Eq("tags", "host")),
		Fields:         []string{"extensions/site", "tags"},
		ExcludeFields:  []string{"description"},
		AllFields:      true,
		ExcludeDefault: true,
		Limit:          10,
		Marker:         "m1",
	}.query()
	if err != nil {
		t.Fatal(err)
	}
	want := "all_fields=&exclude_default=&exclude_fields=description&fields=extensions%2Fsite%2Ctags" +
		"&filter=%28eq%2Cname%2C%27my+pool%27%29%3B%28eq%2Ctags%2Chost%29&limit=10&nextpage_opaque_marker=m1"
	if got := q.Encode(); got != want {
		t.Errorf("query\n got %s\nwant %s", got, want)
	}
	if q, _ := (ListOptions{}).query(); len(q) != 0 {
		t.Errorf("zero options give %v", q)
	}
	if _, err := (ListOptions{Limit: -1}).query(); err == nil {
		t.Error("negative limit accepted")
	}
}
