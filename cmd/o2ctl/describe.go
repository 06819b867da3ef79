package main

import (
	"io"

	"github.com/spf13/cobra"
)

// describeCommand builds "o2ctl describe".
func (a *app) describeCommand() *cobra.Command {
	var pool string
	cmd := &cobra.Command{
		Use:   "describe KIND ID...",
		Short: "Show every attribute of objects, readably",
		Long: `Show every attribute of the objects of KIND with the given IDs, one
"Label:  value" line each, nested attributes (extensions, elements of a
resource, definitions of an alarm dictionary) indented below their label.

KIND is one of ` + kindNames() + `.`,
		Example: `  o2ctl describe resourcepool 4c7b9ff0-11d1-59a7-bed2-5c6c20088c15
  o2ctl describe res 92da47e0-09ab-513f-a721-8cbbf1c17321
  o2ctl describe alarm d6c22996-0cb4-42dd-85e9-c714807ea976
  o2ctl describe sub 80ead3e5-b6f3-4580-b2ac-67d4b1ea6e01
  o2ctl describe cnfinstance 3f1e0c4a-5d2b-4b8e-9a47-0c2d1e6f8a90
  o2ctl describe deployment 0b5e7f0e-8c1d-4a4e-9a3b-5f2d6c7e8a91`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) < 2 {
				return exactArgs(2, "a kind and an ID")(nil, args)
			}
			return nil
		},
		ValidArgsFunction: a.completeKindAndIDs,
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := findKind(args[0])
			if err != nil {
				return err
			}
			if pool != "" && !k.pooled {
				return &usageError{errPoolKind(k)}
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			for i, id := range args[1:] {
				obj, err := k.get(cmd.Context(), c, pool, id)
				if err != nil {
					return err
				}
				if i > 0 {
					if _, err := a.stdout.Write([]byte("\n")); err != nil {
						return err
					}
				}
				var display map[string]string
				if k.display != nil {
					display = k.display(obj)
				}
				if err := describeWith(a.stdout, obj, k.describeOrder, display); err != nil {
					return err
				}
				if k.explain != nil {
					if text := k.explain(obj); text != "" {
						if _, err := io.WriteString(a.stdout, text); err != nil {
							return err
						}
					}
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&pool, "pool", "", "resource pool ID (resources only; optional)")
	return cmd
}
