package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	o2 "github.com/nephoran/o2ims/pkg/client"
)

// getOptions are the flags of "o2ctl get".
type getOptions struct {
	output        string
	filter        string
	fields        []string
	excludeFields []string
	allFields     bool
	limit         int
	allPages      bool
	pool          string
}

// getCommand builds "o2ctl get".
func (a *app) getCommand() *cobra.Command {
	var o getOptions
	cmd := &cobra.Command{
		Use:   "get KIND [ID...]",
		Short: "List objects of a kind, or get some by ID",
		Long: `List the objects of KIND, or get the objects with the given IDs.

KIND is one of
  ` + kindNames() + `
or a singular form such as resourcepool.

Without IDs, one page is listed (--limit objects, 100 by default); with
--all-pages every page is fetched. --filter takes an ETSI GS NFV-SOL 013
filter, terms joined with ';', such as
  (eq,tags,disk)
  (in,resourceClass,STORAGE,NETWORKING);(cont,name,'System memory')
  (lte,perceivedSeverity,1);(eq,alarmAcknowledged,false)
Quote values holding , ( ) ' ; / or spaces with single quotes.

Alarm severities are numbers: 0 CRITICAL, 1 MAJOR, 2 MINOR, 3 WARNING,
4 INDETERMINATE, 5 CLEARED. Subscriptions are listed with their
extensions/deliveryStatus unless --all-fields or --exclude-fields is given.`,
		Example: `  o2ctl get resourcepools
  o2ctl get rp 4c7b9ff0-11d1-59a7-bed2-5c6c20088c15 -o yaml
  o2ctl get resources --pool 4c7b9ff0-11d1-59a7-bed2-5c6c20088c15 --filter '(eq,tags,disk)' -o wide
  o2ctl get res --filter '(gt,extensions/sizeBytes,1000000000)' --fields extensions/sizeBytes -o json
  o2ctl get rt --all-pages --limit 50 -o name
  o2ctl get alarms --filter '(eq,perceivedSeverity,0)' -o wide
  o2ctl get subscriptions
  o2ctl get cnfinstances -o wide
  o2ctl get lcmopoccs --filter '(eq,operationState,FAILED)' -o wide`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &usageError{fmt.Errorf("a kind is required: %s", kindNames())}
			}
			return nil
		},
		ValidArgsFunction: a.completeKindAndIDs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.get(cmd.Context(), cmd, args[0], args[1:], &o)
		},
	}
	f := cmd.Flags()
	addOutputFlag(cmd, &o.output, outTable, outWide, outJSON, outYAML, outName)
	f.StringVar(&o.filter, "filter", "", "SOL013 filter, such as (eq,tags,disk)")
	f.StringSliceVar(&o.fields, "fields", nil, "complex attributes to include, such as extensions/site,tags")
	f.StringSliceVar(&o.excludeFields, "exclude-fields", nil, "attributes to leave out")
	f.BoolVar(&o.allFields, "all-fields", false, "include every attribute, also those excluded by default")
	f.IntVar(&o.limit, "limit", 0, fmt.Sprintf("page size, 1 to %d (default: the server's, 100)", o2.MaxLimit))
	f.BoolVar(&o.allPages, "all-pages", false, "fetch every page, not only the first")
	f.StringVar(&o.pool, "pool", "", "resource pool ID (resources only)")
	return cmd
}

// get runs "o2ctl get".
func (a *app) get(ctx context.Context, cmd *cobra.Command, kindName string, ids []string, o *getOptions) error {
	k, err := findKind(kindName)
	if err != nil {
		return err
	}
	if err := checkFormat(o.output, outTable, outWide, outJSON, outYAML, outName); err != nil {
		return err
	}
	if o.pool != "" && !k.pooled {
		return &usageError{errPoolKind(k)}
	}
	if o.limit < 0 || o.limit > o2.MaxLimit {
		return &usageError{fmt.Errorf("--limit must be between 1 and %d", o2.MaxLimit)}
	}
	if len(ids) > 0 {
		for _, flag := range []string{"filter", "fields", "exclude-fields", "all-fields", "limit", "all-pages"} {
			if cmd.Flags().Changed(flag) {
				return &usageError{fmt.Errorf("--%s lists objects and cannot be combined with IDs", flag)}
			}
		}
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	if len(ids) > 0 {
		items := make([]any, 0, len(ids))
		for _, id := range ids {
			it, err := k.get(ctx, c, o.pool, id)
			if err != nil {
				return err
			}
			items = append(items, it)
		}
		return printItems(a.stdout, k, o.output, items, len(ids) == 1)
	}

	opts := o2.ListOptions{
		Filter:        o2.RawFilter(strings.TrimSpace(o.filter)),
		Fields:        o.fields,
		ExcludeFields: o.excludeFields,
		AllFields:     o.allFields,
		Limit:         o.limit,
	}
	if !o.allFields && len(o.excludeFields) == 0 {
		opts.Fields = withFields(o.fields, k.defaultFields)
	}
	var items []any
	more := false
	if o.allPages {
		for it, err := range k.all(ctx, c, o.pool, opts) {
			if err != nil {
				return err
			}
			items = append(items, it)
		}
	} else {
		var next string
		if items, next, err = k.list(ctx, c, o.pool, opts); err != nil {
			return err
		}
		more = next != ""
	}
	if items == nil {
		items = []any{} // "[]" rather than "null" in JSON
	}
	if len(items) == 0 && (o.output == outTable || o.output == outWide) {
		fmt.Fprintf(a.stderr, "No %s found.\n", k.name)
		return nil
	}
	if err := printItems(a.stdout, k, o.output, items, false); err != nil {
		return err
	}
	if more {
		fmt.Fprintf(a.stderr, "More %s are available; use --all-pages to list them all.\n", k.name)
	}
	return nil
}

// completeKindAndIDs completes a kind as the first argument and the IDs of
// that kind, read from the IMS, after it.
func (a *app) completeKindAndIDs(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) == 0 {
		var names []string
		for _, k := range kinds() {
			names = append(names, k.name, k.singular)
			names = append(names, k.aliases...)
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	}
	k, err := findKind(args[0])
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	c, err := a.client()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	pool, _ := cmd.Flags().GetString("pool")
	items, _, err := k.list(cmd.Context(), c, pool, o2.ListOptions{Limit: o2.MaxLimit})
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var ids []string
	for _, it := range items {
		ids = append(ids, k.id(it))
	}
	return ids, cobra.ShellCompDirectiveNoFileComp
}

// withFields returns fields with the selectors of more it lacks appended.
func withFields(fields, more []string) []string {
	out := append([]string(nil), fields...)
	for _, m := range more {
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

// errPoolKind is the error of --pool given with a kind other than
// resources.
func errPoolKind(k *kind) error {
	return fmt.Errorf("--pool applies to resources only, not %s", k.name)
}
