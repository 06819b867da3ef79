package main

import (
	"github.com/spf13/pflag"

	"github.com/nephoran/o2ims/internal/a1"
	"github.com/nephoran/o2ims/internal/app"
)

// registerA1ReportFlags adds the flags of the resource report the IMS
// produces for RIC-side consumers (A1 enrichment information through ICS,
// or static targets) to fs.
func registerA1ReportFlags(fs *pflag.FlagSet, o *app.A1ReportOptions) {
	fs.StringVar(&o.ICSEndpoint, "a1-ics-endpoint", "", "base URL of the Non-RT RIC's Information Coordination Service the IMS registers its resource report with as an A1 enrichment information producer (empty: no registration)")
	fs.DurationVar(&o.Interval, "a1-report-interval", a1.DefaultReportInterval, "how often the resource report goes to each information job's target (report_interval), unless the job asks for another")
	fs.DurationVar(&o.MinInterval, "a1-min-report-interval", a1.DefaultMinReportInterval, "the shortest report interval an information job may ask for")
	fs.StringVar(&o.InfoType, "a1-info-type", a1.DefaultInfoTypeID, "information type id of the resource report registered with ICS")
	fs.StringVar(&o.ProducerID, "a1-producer-id", a1.DefaultProducerID, "information producer id registered with ICS; give each IMS its own")
	fs.StringVar(&o.CallbackListen, "a1-callback-listen", "", "address ICS's producer callbacks (information jobs, supervision) are served on, without the API's authentication, e.g. 0.0.0.0:8090; required with --a1-ics-endpoint")
	fs.StringVar(&o.CallbackURL, "a1-callback-url", "", "URL ICS reaches --a1-callback-listen by (default http://<its address>, which must then name a host)")
	fs.StringSliceVar(&o.Targets, "a1-report-target", nil, "URL that receives the resource report every --a1-report-interval without ICS (repeatable or comma-separated)")
}
