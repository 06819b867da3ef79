package httpapi

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/nephoran/o2ims/internal/collection"
	"github.com/nephoran/o2ims/internal/ims"
	"github.com/nephoran/o2ims/internal/query"
)

// ChangeFeed answers "what changed since": the store's change log.
type ChangeFeed interface {
	ChangeStamp(ctx context.Context) (int64, error)
	ChangedSince(sc *query.Schema, seq int64) query.Cond
	DeletedSince(ctx context.Context, sc *query.Schema, seq int64, limit int) ([]string, error)
	// ChangeHorizon is the newest pruned deletion of sc's objects: a
	// stamp below it no longer lists every deletion since.
	ChangeHorizon(ctx context.Context, sc *query.Schema) (int64, error)
}

// maxTombstones bounds the deletions one changedSince answer lists.
const maxTombstones = 1000

// changeStampPrefix versions the opaque stamp.
const changeStampPrefix = "c1:"

func encodeStamp(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(changeStampPrefix + strconv.FormatInt(seq, 10)))
}

func decodeStamp(s string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil && strings.HasPrefix(string(b), changeStampPrefix) {
		if seq, err := strconv.ParseInt(string(b[len(changeStampPrefix):]), 10, 64); err == nil && seq >= 0 {
			return seq, nil
		}
	}
	return 0, ims.Errorf(ims.EINVALID, "changedSince: not a change stamp of this server (pass the X-Change-Stamp of an earlier answer)")
}

// feed is what a changedSince list adds: conditions on the objects, the
// tombstones of its first page, the stamp for next time.
type feed struct {
	conds      []query.Cond
	tombstones []map[string]any
	stamp      string
}

// readFeed prepares a list of sc for changedSince (may be empty). The
// stamp is read first, so that a change made while listing comes again
// next time rather than never.
func readFeed(ctx context.Context, cf ChangeFeed, sc *query.Schema, changedSince, marker string) (feed, error) {
	var f feed
	if cf == nil {
		return f, nil
	}
	now, err := cf.ChangeStamp(ctx)
	if err != nil {
		return f, err
	}
	f.stamp = encodeStamp(now)
	if changedSince == "" {
		return f, nil
	}
	since, err := decodeStamp(changedSince)
	if err != nil {
		return f, err
	}
	horizon, err := cf.ChangeHorizon(ctx, sc)
	if err != nil {
		return f, err
	}
	if since < horizon {
		return f, ims.Errorf(ims.EGONE, "changedSince: the deletions recorded after that stamp are no longer all kept (tombstones are kept for the server's --tombstone-retention); list again without changedSince")
	}
	f.conds = []query.Cond{cf.ChangedSince(sc, since)}
	if marker != "" {
		return f, nil // tombstones come with the first page
	}
	ids, err := cf.DeletedSince(ctx, sc, since, maxTombstones+1)
	if err != nil {
		return f, err
	}
	if len(ids) > maxTombstones {
		return f, ims.Errorf(ims.EGONE, "changedSince: more than %d objects were deleted since that stamp; list again without changedSince", maxTombstones)
	}
	idAttr := sc.Attrs[0].Name // every schema names its id first
	for _, id := range ids {
		f.tombstones = append(f.tombstones, map[string]any{idAttr: id, "deleted": true})
	}
	return f, nil
}

// feedResponse is a page with the feed's tombstones and stamp.
func feedResponse(ctx context.Context, page collection.Page, f feed) listResponse {
	r := newListResponse(ctx, page)
	r.items = append(r.items, f.tombstones...) // after the encoded items, if any
	r.stamp = f.stamp
	return r
}
