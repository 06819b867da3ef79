"""The filter builder and the list query, mirroring pkg/client/filter_test.go."""

import enum
import unittest

from nephoran_o2ims import Filter, and_, cont, eq, gt, gte, in_, lt, lte, ncont, neq, nin, raw
from nephoran_o2ims.enums import ResourceClass
from nephoran_o2ims.services import encode_query, list_params


class Kind(str, enum.Enum):
    PHYSICAL = "PHYSICAL"


class FilterBuilderTest(unittest.TestCase):
    # The cases of TestFilterBuilder. Go's float32 and uint8 cases have no
    # Python types; a float and an int stand for them.
    CASES = [
        ("plain", eq("name", "pool1"), "(eq,name,pool1)"),
        ("space", eq("name", "my pool"), "(eq,name,'my pool')"),
        ("comma", eq("name", "a,b"), "(eq,name,'a,b')"),
        ("parens", neq("description", "x (y)"), "(neq,description,'x (y)')"),
        ("quote doubled", eq("name", "it's"), "(eq,name,'it''s')"),
        ("only quotes", eq("name", "''"), "(eq,name,'''''')"),
        ("semicolon", eq("name", "a;b"), "(eq,name,'a;b')"),
        ("slash", eq("location", "eu/west"), "(eq,location,'eu/west')"),
        ("empty", eq("globalAssetId", ""), "(eq,globalAssetId,'')"),
        ("tab", eq("name", "a\tb"), "(eq,name,'a\tb')"),
        ("unicode", eq("name", "Zürich"), "(eq,name,Zürich)"),
        ("path attr", in_("extensions/provider", "aws", "azure"), "(in,extensions/provider,aws,azure)"),
        ("in mixed quoting", in_("name", "a", "b c", ""), "(in,name,a,'b c','')"),
        ("nin", nin("resourceClass", "STORAGE", "NETWORKING"), "(nin,resourceClass,STORAGE,NETWORKING)"),
        ("int", gt("extensions/sizeBytes", 1000000000), "(gt,extensions/sizeBytes,1000000000)"),
        ("negative", gte("extensions/t", -5), "(gte,extensions/t,-5)"),
        ("float", lt("extensions/mhz", 2445.5), "(lt,extensions/mhz,2445.5)"),
        ("large float not exponent", lte("extensions/x", 1e21), "(lte,extensions/x,1000000000000000000000)"),
        ("float32", lt("extensions/r", 0.1), "(lt,extensions/r,0.1)"),
        ("uint", eq("extensions/n", 7), "(eq,extensions/n,7)"),
        ("bool", eq("extensions/readOnly", False), "(eq,extensions/readOnly,false)"),
        ("defined string type", eq("resourceKind", Kind.PHYSICAL), "(eq,resourceKind,PHYSICAL)"),
        ("model constant", eq("resourceClass", ResourceClass.COMPUTE), "(eq,resourceClass,COMPUTE)"),
        ("cont", cont("name", "System memory"), "(cont,name,'System memory')"),
        ("ncont", ncont("description", "virtio"), "(ncont,description,virtio)"),
        (
            "and",
            and_(eq("tags", "disk"), gt("extensions/sizeBytes", 1), cont("name", "a b")),
            "(eq,tags,disk);(gt,extensions/sizeBytes,1);(cont,name,'a b')",
        ),
        ("and skips zero", and_(Filter(), eq("a", "b"), Filter()), "(eq,a,b)"),
        ("nested and", and_(and_(eq("a", "1"), eq("b", "2")), eq("c", "3")), "(eq,a,1);(eq,b,2);(eq,c,3)"),
        ("raw", raw("(eq,tags,host)"), "(eq,tags,host)"),
        ("raw and", and_(raw("(eq,tags,host)"), eq("name", "x y")), "(eq,tags,host);(eq,name,'x y')"),
        ("zero", Filter(), ""),
        ("raw empty", raw(""), ""),
    ]

    def test_filter_builder(self):
        for name, f, want in self.CASES:
            with self.subTest(name):
                self.assertEqual(str(f), want)
                self.assertEqual(f.is_zero(), want == "")

    def test_issue_example(self):
        f = and_(eq("name", "my pool"), in_("extensions/provider", "aws", "azure"))
        self.assertEqual(str(f), "(eq,name,'my pool');(in,extensions/provider,aws,azure)")

    def test_and_does_not_alias(self):
        base = and_(eq("a", "1"), eq("b", "2"))
        x = and_(base, eq("c", "3"))
        y = and_(base, eq("d", "4"))
        self.assertEqual(str(x), "(eq,a,1);(eq,b,2);(eq,c,3)")
        self.assertEqual(str(y), "(eq,a,1);(eq,b,2);(eq,d,4)")
        self.assertEqual(str(base), "(eq,a,1);(eq,b,2)")

    def test_operator_and_and_strings(self):
        self.assertEqual(str(eq("a", 1) & eq("b", True)), "(eq,a,1);(eq,b,true)")
        self.assertEqual(str(and_("(eq,tags,host)", eq("c", 2.0))), "(eq,tags,host);(eq,c,2)")

    def test_floats_like_go(self):
        for value, want in [(3.0, "3"), (100.0, "100"), (1e-7, "0.0000001"), (-0.0, "-0"), (0.0, "0"), (float("inf"), "+Inf")]:
            with self.subTest(value):
                self.assertEqual(str(eq("x", value)), f"(eq,x,{want})")

    def test_refuses_other_values(self):
        with self.assertRaises(TypeError):
            eq("x", None)
        with self.assertRaises(TypeError):
            eq("x", [1])
        with self.assertRaises(ValueError):
            eq("", "x")


class ListQueryTest(unittest.TestCase):
    def test_list_options_query(self):
        # TestListOptionsQuery of the Go SDK: the same encoding, byte for byte.
        q = list_params(
            filter=and_(eq("name", "my pool"), eq("tags", "host")),
            fields=["extensions/site", "tags"],
            exclude_fields=["description"],
            all_fields=True,
            exclude_default=True,
            limit=10,
            marker="m1",
        )
        want = (
            "all_fields=&exclude_default=&exclude_fields=description&fields=extensions%2Fsite%2Ctags"
            "&filter=%28eq%2Cname%2C%27my+pool%27%29%3B%28eq%2Ctags%2Chost%29&limit=10&nextpage_opaque_marker=m1"
        )
        self.assertEqual(encode_query(q), want)
        self.assertEqual(list_params(), {})

    def test_bad_limit(self):
        for bad in (0, -1, True, "10"):
            with self.subTest(bad), self.assertRaises(ValueError):
                list_params(limit=bad)

    def test_min_capacity(self):
        self.assertEqual(list_params(min_capacity={"pods": 10, "memory": "8Gi", "cpu": "4"})["minCapacity"], "cpu:4,memory:8Gi,pods:10")
        self.assertEqual(list_params(min_capacity="cpu:500m")["minCapacity"], "cpu:500m")
        with self.assertRaises(ValueError):
            list_params(min_capacity={"cpu": "1,2"})
        with self.assertRaises(ValueError):
            list_params(min_capacity={"cpu": ""})

    def test_string_filter_and_fields(self):
        q = list_params(filter="(eq,tags,host)", fields="a,b")
        self.assertEqual(q, {"filter": "(eq,tags,host)", "fields": "a,b"})


if __name__ == "__main__":
    unittest.main()
