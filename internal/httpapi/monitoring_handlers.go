package httpapi

import (
	"context"

	"github.com/nephoran/o2ims/internal/alarms"
	"github.com/nephoran/o2ims/internal/httpapi/gen/common"
	monapi "github.com/nephoran/o2ims/internal/httpapi/gen/monitoring"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/subscription"
)

// monitoringHandlers implements the O2ims_InfrastructureMonitoring API.
type monitoringHandlers struct {
	alarms *alarms.Service
	subs   *subscription.Service
}

var _ monapi.StrictServerInterface = (*monitoringHandlers)(nil)

const monitoringPrefix = "/o2ims-infrastructureMonitoring/v1"

func monitoringVersions() common.APIVersions {
	return common.APIVersions{UriPrefix: monitoringPrefix, ApiVersions: []common.APIVersion{{Version: "1.0.0"}}}
}

func (h *monitoringHandlers) GetAllVersions(ctx context.Context, _ monapi.GetAllVersionsRequestObject) (monapi.GetAllVersionsResponseObject, error) {
	return monapi.GetAllVersions200JSONResponse(monitoringVersions()), nil
}

func (h *monitoringHandlers) GetMinorVersions(ctx context.Context, _ monapi.GetMinorVersionsRequestObject) (monapi.GetMinorVersionsResponseObject, error) {
	return monapi.GetMinorVersions200JSONResponse(monitoringVersions()), nil
}

func (h *monitoringHandlers) GetAlarms(ctx context.Context, req monapi.GetAlarmsRequestObject) (monapi.GetAlarmsResponseObject, error) {
	p := req.Params
	page, err := h.alarms.List(ctx, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
	if err != nil {
		return nil, err
	}
	return newListResponse(ctx, page), nil
}

func (h *monitoringHandlers) GetAlarm(ctx context.Context, req monapi.GetAlarmRequestObject) (monapi.GetAlarmResponseObject, error) {
	p := req.Params
	doc, err := h.alarms.Get(ctx, req.AlarmEventRecordId.String())
	if err != nil {
		return nil, err
	}
	// The stored record is in its API representation, so one alarm reads
	// the same in the collection and on its own.
	return one(alarms.RecordSchema, doc, selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *monitoringHandlers) PatchAlarm(ctx context.Context, req monapi.PatchAlarmRequestObject) (monapi.PatchAlarmResponseObject, error) {
	if req.Body == nil {
		return nil, ims.Errorf(ims.EINVALID, "a merge patch body is required")
	}
	m := alarms.Modifications{AlarmAcknowledged: req.Body.AlarmAcknowledged}
	if req.Body.PerceivedSeverity != nil {
		sev := int(*req.Body.PerceivedSeverity)
		m.PerceivedSeverity = &sev
	}
	if _, err := h.alarms.Patch(ctx, req.AlarmEventRecordId.String(), m); err != nil {
		return nil, err
	}
	return monapi.PatchAlarm200ApplicationMergePatchPlusJSONResponse(*req.Body), nil
}

func (h *monitoringHandlers) GetAlarmSubscriptions(ctx context.Context, req monapi.GetAlarmSubscriptionsRequestObject) (monapi.GetAlarmSubscriptionsResponseObject, error) {
	p := req.Params
	page, err := h.subs.List(ctx, subscription.Alarm, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
	if err != nil {
		return nil, err
	}
	return newListResponse(ctx, page), nil
}

func (h *monitoringHandlers) CreateAlarmSubscription(ctx context.Context, req monapi.CreateAlarmSubscriptionRequestObject) (monapi.CreateAlarmSubscriptionResponseObject, error) {
	if req.Body == nil {
		return nil, ims.Errorf(ims.EINVALID, "a subscription body is required")
	}
	doc, err := h.subs.Create(ctx, subscription.Alarm, subscription.Input{
		ConsumerSubscriptionID: deref(req.Body.ConsumerSubscriptionId),
		Filter:                 deref(req.Body.Filter),
		Callback:               req.Body.Callback,
	})
	if err != nil {
		return nil, err
	}
	v, err := fromMap[monapi.AlarmSubscriptionInfo](doc)
	if err != nil {
		return nil, err
	}
	loc := monitoringPrefix + "/alarmSubscriptions/" + v.AlarmSubscriptionId.String()
	return monapi.CreateAlarmSubscription201JSONResponse{Body: v, Headers: monapi.CreateAlarmSubscription201ResponseHeaders{Location: &loc}}, nil
}

func (h *monitoringHandlers) GetAlarmSubscription(ctx context.Context, req monapi.GetAlarmSubscriptionRequestObject) (monapi.GetAlarmSubscriptionResponseObject, error) {
	p := req.Params
	doc, err := h.subs.Get(ctx, subscription.Alarm, req.AlarmSubscriptionId.String())
	if err != nil {
		return nil, err
	}
	return one(subscription.AlarmSchema, doc, selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}

func (h *monitoringHandlers) DeleteAlarmSubscription(ctx context.Context, req monapi.DeleteAlarmSubscriptionRequestObject) (monapi.DeleteAlarmSubscriptionResponseObject, error) {
	if err := h.subs.Delete(ctx, subscription.Alarm, req.AlarmSubscriptionId.String()); err != nil {
		return nil, err
	}
	return monapi.DeleteAlarmSubscription200Response{}, nil
}

func (h *monitoringHandlers) GetAlarmServiceConfiguration(ctx context.Context, _ monapi.GetAlarmServiceConfigurationRequestObject) (monapi.GetAlarmServiceConfigurationResponseObject, error) {
	c, err := h.alarms.Configuration(ctx)
	if err != nil {
		return nil, err
	}
	v, err := fromValue[monapi.AlarmServiceConfiguration](c)
	return monapi.GetAlarmServiceConfiguration200JSONResponse(v), err
}

func (h *monitoringHandlers) UpdateAlarmServiceConfiguration(ctx context.Context, req monapi.UpdateAlarmServiceConfigurationRequestObject) (monapi.UpdateAlarmServiceConfigurationResponseObject, error) {
	if req.Body == nil {
		return nil, ims.Errorf(ims.EINVALID, "a configuration body is required")
	}
	in := ims.AlarmServiceConfiguration{RetentionPeriod: req.Body.RetentionPeriod}
	if req.Body.Extensions != nil {
		in.Extensions = ims.Extensions(*req.Body.Extensions)
	}
	c, err := h.alarms.SetConfiguration(ctx, in)
	if err != nil {
		return nil, err
	}
	v, err := fromValue[monapi.AlarmServiceConfiguration](c)
	return monapi.UpdateAlarmServiceConfiguration200JSONResponse(v), err
}

func (h *monitoringHandlers) PatchAlarmServiceConfiguration(ctx context.Context, req monapi.PatchAlarmServiceConfigurationRequestObject) (monapi.PatchAlarmServiceConfigurationResponseObject, error) {
	if req.Body == nil {
		return nil, ims.Errorf(ims.EINVALID, "a merge patch body is required")
	}
	var ext map[string]any
	if req.Body.Extensions != nil {
		ext = *req.Body.Extensions
	}
	c, err := h.alarms.PatchConfiguration(ctx, req.Body.RetentionPeriod, ext)
	if err != nil {
		return nil, err
	}
	v, err := fromValue[monapi.AlarmServiceConfiguration](c)
	return monapi.PatchAlarmServiceConfiguration200JSONResponse(v), err
}

func (h *monitoringHandlers) GetProbableCauses(ctx context.Context, req monapi.GetProbableCausesRequestObject) (monapi.GetProbableCausesResponseObject, error) {
	p := req.Params
	values := make([]any, len(alarms.ProbableCauses))
	for i, c := range alarms.ProbableCauses {
		values[i] = c
	}
	page, err := staticList(probableCauseSchema, values, listRequest(p.Filter, p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault, p.Limit, p.NextpageOpaqueMarker))
	if err != nil {
		return nil, err
	}
	return newListResponse(ctx, page), nil
}

func (h *monitoringHandlers) GetProbableCause(ctx context.Context, req monapi.GetProbableCauseRequestObject) (monapi.GetProbableCauseResponseObject, error) {
	p := req.Params
	c, err := alarms.ProbableCause(req.ProbableCauseId.String())
	if err != nil {
		return nil, err
	}
	return one(probableCauseSchema, c, selectors{p.Fields, p.ExcludeFields, p.AllFields, p.ExcludeDefault})
}
