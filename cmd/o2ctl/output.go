package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"
)

// Output formats of -o.
const (
	outTable = "table"
	outWide  = "wide"
	outJSON  = "json"
	outYAML  = "yaml"
	outName  = "name"
)

// none stands for an empty value in tables and descriptions.
const none = "<none>"

// addOutputFlag adds -o/--output with the given formats, the first being
// the default.
func addOutputFlag(cmd *cobra.Command, dst *string, formats ...string) {
	cmd.Flags().StringVarP(dst, "output", "o", formats[0], "output format: "+strings.Join(formats, "|"))
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(formats, cobra.ShellCompDirectiveNoFileComp))
}

// checkFormat returns a usage error unless format is one of formats.
func checkFormat(format string, formats ...string) error {
	for _, f := range formats {
		if format == f {
			return nil
		}
	}
	return &usageError{fmt.Errorf("unknown output format %q; want one of %s", format, strings.Join(formats, ", "))}
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", data)
	return err
}

// printYAML writes v as YAML.
func printYAML(w io.Writer, v any) error {
	data, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// printItems writes items of kind k in format; single says that one object
// was asked for by ID, so JSON and YAML show it alone rather than in a list.
func printItems(w io.Writer, k *kind, format string, items []any, single bool) error {
	switch format {
	case outJSON, outYAML:
		var v any = items
		if single && len(items) == 1 {
			v = items[0]
		}
		if format == outJSON {
			return printJSON(w, v)
		}
		return printYAML(w, v)
	case outName:
		for _, it := range items {
			if _, err := fmt.Fprintf(w, "%s/%s\n", k.singular, k.id(it)); err != nil {
				return err
			}
		}
		return nil
	default:
		cols := k.columns
		if format == outWide {
			cols = append(append([]column(nil), k.columns...), k.wide...)
		}
		return printTable(w, cols, items)
	}
}

// printTable writes items as aligned columns under a header.
func printTable(w io.Writer, cols []column, items []any) error {
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	headers := make([]string, len(cols))
	for i, c := range cols {
		headers[i] = c.header
	}
	fmt.Fprintln(tw, strings.Join(headers, "\t"))
	for _, it := range items {
		cells := make([]string, len(cols))
		for i, c := range cols {
			cells[i] = cell(c.value(it))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// cell makes v fit one table cell: control characters become spaces, and
// an empty value reads <none>.
func cell(v string) string {
	v = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, v)
	if strings.TrimSpace(v) == "" {
		return none
	}
	return v
}

// scalar renders a JSON value on one line: numbers without exponent,
// composite values as compact JSON.
func scalar(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	default:
		data, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(data)
	}
}

// describe writes v, an API object, as indented "Label: value" lines:
// the attributes in order first, then the others alphabetically; nested
// objects are indented below their attribute.
func describe(w io.Writer, v any, order []string) error {
	return describeWith(w, v, order, nil)
}

// describeWith is describe showing the top-level attributes of display
// with the given text rather than their value, such as a severity with
// its name; attributes v lacks are not added.
func describeWith(w io.Writer, v any, order []string, display map[string]string) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return err
	}
	for k, text := range display {
		if _, ok := m[k]; ok {
			m[k] = text
		}
	}
	var buf bytes.Buffer
	writeMap(&buf, 0, m, order, true)
	_, err = w.Write(buf.Bytes())
	return err
}

// writeMap writes the attributes of m at indent. Labels of API attributes
// (humanize) are spelled out; keys of free-form maps such as extensions
// are kept as they are.
func writeMap(w *bytes.Buffer, indent int, m map[string]any, order []string, humanize bool) {
	keys := orderedKeys(m, order)
	labels := make([]string, len(keys))
	width := 0
	for i, k := range keys {
		labels[i] = k
		if humanize {
			labels[i] = label(k)
		}
		width = max(width, len(labels[i])+1)
	}
	pad := strings.Repeat(" ", indent)
	for i, k := range keys {
		l := labels[i] + ":"
		switch x := m[k].(type) {
		case map[string]any:
			if len(x) == 0 {
				fmt.Fprintf(w, "%s%-*s  %s\n", pad, width, l, none)
				continue
			}
			fmt.Fprintf(w, "%s%s\n", pad, l)
			writeMap(w, indent+2, x, nil, false)
		case []any:
			writeList(w, indent, width, l, x, order, humanize)
		default:
			s := scalar(x)
			if s == "" {
				s = none
			}
			fmt.Fprintf(w, "%s%-*s  %s\n", pad, width, l, s)
		}
	}
}

// writeList writes a list attribute: scalars joined on one line, objects
// one after another below the label, separated by blank lines.
func writeList(w *bytes.Buffer, indent, width int, l string, items []any, order []string, humanize bool) {
	pad := strings.Repeat(" ", indent)
	if len(items) == 0 {
		fmt.Fprintf(w, "%s%-*s  %s\n", pad, width, l, none)
		return
	}
	objects := false
	for _, it := range items {
		if _, ok := it.(map[string]any); ok {
			objects = true
		}
	}
	if !objects {
		parts := make([]string, len(items))
		for i, it := range items {
			parts[i] = scalar(it)
		}
		fmt.Fprintf(w, "%s%-*s  %s\n", pad, width, l, strings.Join(parts, ", "))
		return
	}
	fmt.Fprintf(w, "%s%s\n", pad, l)
	for i, it := range items {
		if i > 0 {
			w.WriteString("\n")
		}
		if m, ok := it.(map[string]any); ok {
			writeMap(w, indent+2, m, order, humanize)
		} else {
			fmt.Fprintf(w, "%s  %s\n", pad, scalar(it))
		}
	}
}

// orderedKeys returns the keys of m: those in order first, in that order,
// then the others sorted.
func orderedKeys(m map[string]any, order []string) []string {
	keys := make([]string, 0, len(m))
	listed := map[string]bool{}
	for _, k := range order {
		if _, ok := m[k]; ok {
			keys = append(keys, k)
			listed[k] = true
		}
	}
	var rest []string
	for k := range m {
		if !listed[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(keys, rest...)
}

// label spells out a camelCase attribute name: "resourcePoolId" becomes
// "Resource Pool ID", "oCloudId" becomes "O-Cloud ID", and a run of
// capitals is one word: "alarmDefinitionID" becomes "Alarm Definition ID".
func label(key string) string {
	var words []string
	runes := []rune(key)
	start := 0
	for i := 1; i < len(runes); i++ {
		// A word starts at a capital after a small letter, and at the
		// last capital of a run that a small letter follows ("URLPath").
		if unicode.IsUpper(runes[i]) &&
			(!unicode.IsUpper(runes[i-1]) || i+1 < len(runes) && unicode.IsLower(runes[i+1])) {
			words = append(words, string(runes[start:i]))
			start = i
		}
	}
	words = append(words, string(runes[start:]))
	if len(words) > 1 && words[0] == "o" && words[1] == "Cloud" {
		words = append([]string{"O-Cloud"}, words[2:]...)
	}
	for i, w := range words {
		switch strings.ToLower(w) {
		case "":
		case "id":
			words[i] = "ID"
		case "uri":
			words[i] = "URI"
		case "pk":
			words[i] = "PK"
		case "cnf", "vnf", "vnfd", "lcm":
			words[i] = strings.ToUpper(w)
		default:
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}
