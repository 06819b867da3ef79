package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// cloudInfoCommand builds "o2ctl cloud-info".
func (a *app) cloudInfoCommand() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "cloud-info",
		Short: "Show the O-Cloud the IMS manages",
		Args:  exactArgs(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(output, outTable, outJSON, outYAML); err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			info, err := c.CloudInfo(cmd.Context())
			if err != nil {
				return err
			}
			switch output {
			case outJSON:
				return printJSON(a.stdout, info)
			case outYAML:
				return printYAML(a.stdout, info)
			}
			return describe(a.stdout, info, []string{"oCloudId", "globalCloudId", "name", "description", "serviceUri"})
		},
	}
	addOutputFlag(cmd, &output, outTable, outJSON, outYAML)
	return cmd
}

// versionInfo is the output of "o2ctl version".
type versionInfo struct {
	Client struct {
		Version   string `json:"version"`
		GoVersion string `json:"goVersion"`
	} `json:"client"`
	Server *serverVersion `json:"server,omitempty"`
}

// serverVersion describes the IMS in "o2ctl version".
type serverVersion struct {
	Endpoint    string   `json:"endpoint"`
	APIVersions []string `json:"apiVersions"`
}

// versionCommand builds "o2ctl version".
func (a *app) versionCommand() *cobra.Command {
	var (
		output     string
		clientOnly bool
	)
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the versions of o2ctl and of the IMS API",
		Args:  exactArgs(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(output, outTable, outJSON, outYAML); err != nil {
				return err
			}
			var v versionInfo
			v.Client.Version = clientVersion()
			v.Client.GoVersion = runtime.Version()
			var serverErr error
			if !clientOnly {
				serverErr = a.serverVersion(cmd, &v)
			}
			var err error
			switch output {
			case outJSON:
				err = printJSON(a.stdout, v)
			case outYAML:
				err = printYAML(a.stdout, v)
			default:
				fmt.Fprintf(a.stdout, "Client Version: %s (%s)\n", v.Client.Version, v.Client.GoVersion)
				if v.Server != nil {
					fmt.Fprintf(a.stdout, "Server: %s\nServer API Versions: %s\n", v.Server.Endpoint, joinOrNone(v.Server.APIVersions))
				}
			}
			if serverErr != nil {
				return serverErr
			}
			return err
		},
	}
	addOutputFlag(cmd, &output, outTable, outJSON, outYAML)
	cmd.Flags().BoolVar(&clientOnly, "client", false, "print the client version only, without contacting the IMS")
	return cmd
}

// serverVersion fills v.Server from the IMS.
func (a *app) serverVersion(cmd *cobra.Command, v *versionInfo) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	av, err := c.APIVersions(cmd.Context())
	if err != nil {
		return err
	}
	sv := &serverVersion{Endpoint: c.Endpoint(), APIVersions: []string{}}
	for _, x := range av.APIVersions {
		sv.APIVersions = append(sv.APIVersions, x.Version)
	}
	v.Server = sv
	return nil
}

// clientVersion returns the version of the o2ctl binary from its build
// information.
func clientVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Version == "" || bi.Main.Version == "(devel)" {
		return "devel"
	}
	return bi.Main.Version
}

// joinOrNone joins values with ", ", or returns <none>.
func joinOrNone(values []string) string {
	if len(values) == 0 {
		return none
	}
	s := values[0]
	for _, v := range values[1:] {
		s += ", " + v
	}
	return s
}

// orNone returns s, or <none> when it is empty.
func orNone(s string) string {
	if s == "" {
		return none
	}
	return s
}
