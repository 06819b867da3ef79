package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/nephoran/o2ims/internal/alarms"
	"github.com/nephoran/o2ims/internal/ims"
)

// alertmanager receives Alertmanager webhook messages (payload version 4)
// at /internal/v1/alertmanager.
func (s *Server) alertmanager(w http.ResponseWriter, r *http.Request) {
	var msg alarms.WebhookMessage
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&msg); err != nil {
		var tooLarge *http.MaxBytesError
		if !errors.As(err, &tooLarge) {
			what := "not valid JSON"
			if m, ok := ims.JSONMessage(err); ok {
				what = m
			}
			err = ims.Errorf(ims.EINVALID, "body: not an Alertmanager webhook message: %s", what)
		}
		writeError(w, r, s.logger, err)
		return
	}
	res, err := s.opts.Receiver.Receive(r.Context(), msg)
	if err != nil {
		writeError(w, r, s.logger, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(res)
}
