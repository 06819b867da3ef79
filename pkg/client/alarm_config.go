package o2

import "context"

// AlarmServiceConfiguration is the configuration of the alarm service of
// the IMS.
type AlarmServiceConfiguration struct {
	// RetentionPeriod is the number of days cleared alarms are kept, at
	// least 1; the IMS starts with 30.
	RetentionPeriod int `json:"retentionPeriod"`
	// Extensions are implementation-specific attributes.
	Extensions map[string]any `json:"extensions,omitempty"`
}

// AlarmServiceConfigurationPatch is a JSON merge patch (RFC 7396) of the
// AlarmServiceConfiguration: nil attributes are left as they are.
type AlarmServiceConfigurationPatch struct {
	// RetentionPeriod, when set, replaces the retention period in days,
	// as in RetentionPeriod: new(7).
	RetentionPeriod *int `json:"retentionPeriod,omitempty"`
	// Extensions are merged into the extensions; a key with a nil value
	// is removed.
	Extensions map[string]any `json:"extensions,omitempty"`
}

// AlarmServiceConfigurationService reads and changes the alarm service
// configuration. Get one with Client.AlarmServiceConfiguration.
type AlarmServiceConfigurationService struct {
	s singleton[AlarmServiceConfiguration]
}

// AlarmServiceConfiguration returns the service for the alarm service
// configuration.
func (c *Client) AlarmServiceConfiguration() *AlarmServiceConfigurationService {
	return &AlarmServiceConfigurationService{s: newSingleton[AlarmServiceConfiguration](c, MonitoringAPIPrefix, "alarmServiceConfiguration")}
}

// Get returns the alarm service configuration.
func (s *AlarmServiceConfigurationService) Get(ctx context.Context) (*AlarmServiceConfiguration, error) {
	return s.s.get(ctx)
}

// Replace replaces the alarm service configuration with cfg, extensions
// included, and returns the new configuration. A RetentionPeriod below 1
// is a ProblemError with status 400.
func (s *AlarmServiceConfigurationService) Replace(ctx context.Context, cfg AlarmServiceConfiguration) (*AlarmServiceConfiguration, error) {
	return s.s.replace(ctx, &cfg)
}

// Patch changes the attributes of the alarm service configuration that
// patch sets, with a JSON merge patch, and returns the new configuration.
// It is never retried.
func (s *AlarmServiceConfigurationService) Patch(ctx context.Context, patch AlarmServiceConfigurationPatch) (*AlarmServiceConfiguration, error) {
	return s.s.patch(ctx, patch)
}
