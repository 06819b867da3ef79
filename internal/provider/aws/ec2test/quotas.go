package ec2test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// quotasTarget prefixes the X-Amz-Target of Service Quotas' JSON
// protocol (awsJson1.1).
const quotasTarget = "ServiceQuotasV20190624."

// SetQuota sets the value of a service quota, such as EC2's L-1216C47A
// (Running On-Demand Standard instances, in vCPUs).
func (s *Server) SetQuota(serviceCode, quotaCode string, value float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.quotas[serviceCode+"/"+quotaCode] = value
}

type quotaJSON struct {
	ServiceCode string  `json:"ServiceCode"`
	ServiceName string  `json:"ServiceName"`
	QuotaArn    string  `json:"QuotaArn"`
	QuotaCode   string  `json:"QuotaCode"`
	QuotaName   string  `json:"QuotaName"`
	Value       float64 `json:"Value"`
	Unit        string  `json:"Unit"`
	Adjustable  bool    `json:"Adjustable"`
	GlobalQuota bool    `json:"GlobalQuota"`
}

// serveQuotas answers a Service Quotas request: GetServiceQuota.
func (s *Server) serveQuotas(w http.ResponseWriter, r *http.Request, body []byte, action string) {
	var in struct{ ServiceCode, QuotaCode string }
	params := url.Values{}
	if e, ok := s.authenticate(r, body, "servicequotas"); !ok {
		s.failJSON(w, action, params, e)
		return
	}
	if err := json.Unmarshal(body, &in); err != nil {
		s.failJSON(w, action, params, APIError{http.StatusBadRequest, "SerializationException", err.Error()})
		return
	}
	params.Set("ServiceCode", in.ServiceCode)
	params.Set("QuotaCode", in.QuotaCode)
	s.mu.Lock()
	e, failed := s.injected(action)
	value, known := s.quotas[in.ServiceCode+"/"+in.QuotaCode]
	s.mu.Unlock()
	switch {
	case failed:
	case action != "GetServiceQuota":
		e = APIError{http.StatusBadRequest, "UnknownOperationException", "this test server implements GetServiceQuota only"}
	case !known:
		e = APIError{http.StatusBadRequest, "NoSuchResourceException", fmt.Sprintf("The request failed because the specified quota %s of service %s does not exist.", in.QuotaCode, in.ServiceCode)}
	default:
		s.record(action, params, "")
		out, _ := json.Marshal(map[string]quotaJSON{"Quota": {
			ServiceCode: in.ServiceCode, ServiceName: "Amazon Elastic Compute Cloud (Amazon EC2)", QuotaCode: in.QuotaCode,
			QuotaArn:  fmt.Sprintf("arn:aws:servicequotas:%s:%s:%s/%s", s.opts.Region, s.opts.OwnerID, in.ServiceCode, in.QuotaCode),
			QuotaName: "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances", Value: value, Unit: "None", Adjustable: true,
		}})
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = w.Write(out)
		return
	}
	s.failJSON(w, action, params, e)
}

// failJSON writes the JSON protocol's error document.
func (s *Server) failJSON(w http.ResponseWriter, action string, params url.Values, e APIError) {
	s.record(action, params, e.Code)
	out, _ := json.Marshal(map[string]string{"__type": e.Code, "message": e.Message})
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(e.Status)
	_, _ = w.Write(out)
}
