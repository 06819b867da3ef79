package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	o2 "github.com/nephoran/o2ims/pkg/client"
)

// outID is the output format printing only the identifier of a new
// object.
const outID = "id"

// subscribeOptions are the flags of "o2ctl subscribe".
type subscribeOptions struct {
	callback, filter, consumerID, output string
	alarms                               bool
}

// subscribeCommand builds "o2ctl subscribe".
func (a *app) subscribeCommand() *cobra.Command {
	var o subscribeOptions
	cmd := &cobra.Command{
		Use:   "subscribe --callback URL [--filter FILTER] [--consumer-id ID] [--alarms]",
		Short: "Subscribe a callback to inventory changes or alarm events",
		Long: `Subscribe the callback URL to the inventory changes, or with --alarms to
the alarm events, that the SOL013 filter selects, and print the ID of the
new subscription. The IMS POSTs a notification to the callback for each.

An inventory filter may test the changed object's attributes and
objectType (ResourceType, ResourcePool, Resource, DeploymentManager) and
notificationEventType (0 create, 1 modify, 2 delete); an alarm filter
the alarm's attributes and notificationEventType (NEW, CHANGE, CLEAR,
ACKNOWLEDGE or 0 to 3). The same callback with the same filter cannot be
subscribed twice: exit status 5.`,
		Example: `  o2ctl subscribe --callback https://smo.example.net/o2 --filter '(eq,objectType,ResourcePool)'
  o2ctl subscribe --alarms --callback https://smo.example.net/alarms \
      --filter '(eq,notificationEventType,NEW);(lte,perceivedSeverity,1)' --consumer-id smo-critical
  SUB=$(o2ctl subscribe --callback http://127.0.0.1:9999/o2)`,
		Args: exactArgs(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.subscribe(cmd.Context(), &o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.callback, "callback", "", "absolute http(s) URL notifications are POSTed to (required)")
	f.StringVar(&o.filter, "filter", "", "SOL013 filter selecting the events, such as (eq,objectType,ResourcePool)")
	f.StringVar(&o.consumerID, "consumer-id", "", "your own ID of the subscription, echoed in every notification")
	f.BoolVar(&o.alarms, "alarms", false, "subscribe to alarm events rather than inventory changes")
	addOutputFlag(cmd, &o.output, outID, outJSON, outYAML)
	return cmd
}

// subscribe runs "o2ctl subscribe".
func (a *app) subscribe(ctx context.Context, o *subscribeOptions) error {
	if err := checkFormat(o.output, outID, outJSON, outYAML); err != nil {
		return err
	}
	if strings.TrimSpace(o.callback) == "" {
		return &usageError{fmt.Errorf("--callback is required")}
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	req := o2.SubscriptionRequest{
		Callback:               o.callback,
		ConsumerSubscriptionID: o.consumerID,
		Filter:                 o2.RawFilter(strings.TrimSpace(o.filter)),
	}
	var (
		id  string
		obj any
	)
	if o.alarms {
		s, err := c.AlarmSubscriptions().Create(ctx, req)
		if err != nil {
			return err
		}
		id, obj = s.AlarmSubscriptionID, s
	} else {
		s, err := c.Subscriptions().Create(ctx, req)
		if err != nil {
			return err
		}
		id, obj = s.SubscriptionID, s
	}
	switch o.output {
	case outJSON:
		return printJSON(a.stdout, obj)
	case outYAML:
		return printYAML(a.stdout, obj)
	}
	_, err = fmt.Fprintln(a.stdout, id)
	return err
}

// unsubscribeCommand builds "o2ctl unsubscribe".
func (a *app) unsubscribeCommand() *cobra.Command {
	var alarms bool
	cmd := &cobra.Command{
		Use:   "unsubscribe ID... [--alarms]",
		Short: "Delete subscriptions",
		Long: `Delete the inventory subscriptions, or with --alarms the alarm
subscriptions, with the given IDs; nothing more is delivered to their
callbacks. Each is reported as "subscription/ID deleted".`,
		Example: `  o2ctl unsubscribe 80ead3e5-b6f3-4580-b2ac-67d4b1ea6e01
  o2ctl unsubscribe --alarms d7d2b44a-01b2-445e-a64b-6b42d1130dc3`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &usageError{fmt.Errorf("expected one or more subscription IDs")}
			}
			return nil
		},
		ValidArgsFunction: a.completeIDs(func(cmd *cobra.Command) (string, o2.Filter) {
			if alarms, _ := cmd.Flags().GetBool("alarms"); alarms {
				return "alarmsubscriptions", o2.Filter{}
			}
			return "subscriptions", o2.Filter{}
		}),
		RunE: func(cmd *cobra.Command, ids []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			what, del := "subscription", c.Subscriptions().Delete
			if alarms {
				what, del = "alarmsubscription", c.AlarmSubscriptions().Delete
			}
			for _, id := range ids {
				if err := del(cmd.Context(), id); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "%s/%s deleted\n", what, id)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&alarms, "alarms", false, "delete alarm subscriptions rather than inventory subscriptions")
	return cmd
}

// completeIDs completes the IDs, read from the IMS, of the objects of the
// kind and filter that which returns.
func (a *app) completeIDs(which func(cmd *cobra.Command) (kindName string, filter o2.Filter)) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		name, filter := which(cmd)
		k, err := findKind(name)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		c, err := a.client()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		items, _, err := k.list(cmd.Context(), c, "", o2.ListOptions{Filter: filter, Limit: o2.MaxLimit})
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ids := make([]string, 0, len(items))
		for _, it := range items {
			ids = append(ids, k.id(it))
		}
		return ids, cobra.ShellCompDirectiveNoFileComp
	}
}
