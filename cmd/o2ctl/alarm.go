package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	o2 "github.com/nephoran/o2ims/pkg/client"
)

// alarmCommand builds "o2ctl alarm" and its subcommands.
func (a *app) alarmCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "alarm",
		Short: "Acknowledge or clear alarms",
		Long: `Acknowledge or clear alarms; list them with "o2ctl get alarms".

Acknowledging an alarm twice, clearing one whose definition clears
automatically (when its condition ends, such as a resolved Alertmanager
alert), or clearing one cleared already, is a conflict: exit status 5.`,
		Args: exactArgs(0, "a subcommand"),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(
		a.alarmActionCommand("ack ID...", []string{"acknowledge"}, "Acknowledge alarms", "acknowledged",
			o2.Eq("alarmAcknowledged", false),
			func(ctx context.Context, c *o2.Client, id string) error { return c.Alarms().Acknowledge(ctx, id) }),
		a.alarmActionCommand("clear ID...", nil, "Clear alarms that clear manually", "cleared",
			o2.Neq("perceivedSeverity", o2.SeverityCleared),
			func(ctx context.Context, c *o2.Client, id string) error { return c.Alarms().Clear(ctx, id) }),
	)
	return cmd
}

// alarmActionCommand builds "o2ctl alarm ack" or "o2ctl alarm clear":
// apply act to each alarm given, in order, stopping at the first error,
// and report each with "alarm/ID <done>". candidates selects the alarms
// offered by shell completion.
func (a *app) alarmActionCommand(use string, aliases []string, short, done string, candidates o2.Filter,
	act func(ctx context.Context, c *o2.Client, id string) error) *cobra.Command {
	return &cobra.Command{
		Use:     use,
		Aliases: aliases,
		Short:   short,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &usageError{fmt.Errorf("expected one or more alarm IDs")}
			}
			return nil
		},
		ValidArgsFunction: a.completeIDs(func(cmd *cobra.Command) (string, o2.Filter) { return "alarms", candidates }),
		RunE: func(cmd *cobra.Command, ids []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			for _, id := range ids {
				if err := act(cmd.Context(), c, id); err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "alarm/%s %s\n", id, done)
			}
			return nil
		},
	}
}

// alarmConfigCommand builds "o2ctl alarm-config" and its subcommands.
func (a *app) alarmConfigCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "alarm-config",
		Short: "Show or change the alarm service configuration",
		Long: `Show or change the alarm service configuration: how many days cleared
alarms are kept before they are deleted.`,
		Args: exactArgs(0, "a subcommand"),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}

	var getOutput string
	get := &cobra.Command{
		Use:   "get",
		Short: "Show the alarm service configuration",
		Args:  exactArgs(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(getOutput, outTable, outJSON, outYAML); err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			cfg, err := c.AlarmServiceConfiguration().Get(cmd.Context())
			if err != nil {
				return err
			}
			return a.printAlarmConfig(cfg, getOutput)
		},
	}
	addOutputFlag(get, &getOutput, outTable, outJSON, outYAML)

	var (
		setOutput string
		days      int
	)
	set := &cobra.Command{
		Use:   "set --retention-days N",
		Short: "Change the alarm service configuration",
		Long: `Change the given settings of the alarm service configuration, with a JSON
merge patch: settings not given, and the extensions, are kept. The new
configuration is printed.`,
		Example: `  o2ctl alarm-config set --retention-days 7`,
		Args:    exactArgs(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(setOutput, outTable, outJSON, outYAML); err != nil {
				return err
			}
			if !cmd.Flags().Changed("retention-days") {
				return &usageError{fmt.Errorf("nothing to set: give --retention-days")}
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			cfg, err := c.AlarmServiceConfiguration().Patch(cmd.Context(), o2.AlarmServiceConfigurationPatch{RetentionPeriod: &days})
			if err != nil {
				return err
			}
			return a.printAlarmConfig(cfg, setOutput)
		},
	}
	set.Flags().IntVar(&days, "retention-days", 0, "days cleared alarms are kept, at least 1")
	addOutputFlag(set, &setOutput, outTable, outJSON, outYAML)

	cmd.AddCommand(get, set)
	return cmd
}

// printAlarmConfig writes the alarm service configuration in format.
func (a *app) printAlarmConfig(cfg *o2.AlarmServiceConfiguration, format string) error {
	switch format {
	case outJSON:
		return printJSON(a.stdout, cfg)
	case outYAML:
		return printYAML(a.stdout, cfg)
	}
	return describeWith(a.stdout, cfg, []string{"retentionPeriod", "extensions"},
		map[string]string{"retentionPeriod": fmt.Sprintf("%d days", cfg.RetentionPeriod)})
}
