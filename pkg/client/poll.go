package o2

import (
	"context"
	"math/rand/v2"
	"time"
)

// pollPolicy spaces the GETs of the Wait methods, which poll an object
// until it reaches a state.
type pollPolicy struct {
	initial time.Duration // wait after the first GET
	max     time.Duration // cap of the wait, which doubles after each GET
}

// defaultPollPolicy polls after 250 ms, then less and less often, at
// least every 2 s: lifecycle operations take seconds to minutes.
func defaultPollPolicy() pollPolicy {
	return pollPolicy{initial: 250 * time.Millisecond, max: 2 * time.Second}
}

// pollUntil calls check until it reports done or fails, waiting between
// calls with exponential backoff and jitter, and returns check's error, or
// ctx's error once ctx ends. check is always called at least once.
func (c *Client) pollUntil(ctx context.Context, check func() (done bool, err error)) error {
	d := c.poll.initial
	for {
		done, err := check()
		if err != nil || done {
			return err
		}
		wait := d
		if half := d / 2; half > 0 {
			wait = half + rand.N(d-half+1)
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
		d = min(2*d, c.poll.max)
	}
}
