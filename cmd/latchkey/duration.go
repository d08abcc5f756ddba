package main

import (
	"fmt"
	"time"
)

// humanDuration writes d as people write it, in the largest whole unit: 30d, 8h, 90m, 45s;
// never 1h0m0s. Only a duration of no whole second falls back to Go's form (1.5s).
func humanDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	const day = 24 * time.Hour
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{day, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if d >= u.d && d%u.d == 0 {
			return sign + fmt.Sprintf("%d%s", d/u.d, u.name)
		}
	}
	return sign + d.String()
}
